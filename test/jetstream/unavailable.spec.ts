/** untilAvailable waits out NATS or JetStream being out of reach, and nothing else. */
import { NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { backoffMs, isUnavailable, untilAvailable } from '../../libs/jetstream/src/index.js';

describe('untilAvailable', () => {
  it('retries timeouts and unanswered requests (also as a cause), with growing waits, until it succeeds', async () => {
    const failures: unknown[] = [
      new TimeoutError(),
      new Error('jetstream is not enabled', {
        cause: new Error('request', { cause: new NoRespondersError('x') }),
      }),
      new TimeoutError(),
    ];
    const waits: number[] = [];
    let calls = 0;
    const result = await untilAvailable(
      async () => {
        calls++;
        const f = failures.shift();
        if (f !== undefined) throw f;
        return 'ok';
      },
      { firstDelayMs: 1, maxDelayMs: 3, onRetry: (_err, ms) => waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(waits).toEqual([1, 2, 3]);
  });

  it('throws a refusal at once, and stops retrying when its caller stops', async () => {
    const refusal = new Error('stream IPAM exists with another configuration');
    expect(isUnavailable(refusal)).toBe(false);
    let calls = 0;
    await expect(
      untilAvailable(async () => {
        calls++;
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(calls).toBe(1);
    let stopped = false;
    const timeout = new TimeoutError();
    await expect(
      untilAvailable(
        async () => {
          calls++;
          stopped = calls >= 3;
          throw timeout;
        },
        { firstDelayMs: 1, stopped: () => stopped },
      ),
    ).rejects.toBe(timeout);
    expect(calls).toBe(3);
  });
});

describe('backoffMs', () => {
  it('doubles from the first wait and stops at the most', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, 250, 10_000))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000,
    ]);
    expect(backoffMs(1000, 250, 10_000)).toBe(10_000);
  });
});
