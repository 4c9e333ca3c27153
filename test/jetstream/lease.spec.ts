import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/transport-node';
import { KvLease, type KvLeaseOptions, type LeaseLostReason } from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

const TTL = 600;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A monotonic clock that can be frozen, to simulate a holder whose process was paused. */
function pausableClock(): { monoNow: () => number; freeze: () => void; advance: (ms: number) => void } {
  let frozenAt: number | null = null;
  let offset = 0;
  return {
    monoNow: () => (frozenAt ?? performance.now()) + offset,
    freeze: () => {
      frozenAt = performance.now();
    },
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

describe('KvLease', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let keyN = 0;
  const leases: KvLease[] = [];

  const open = async (holderId: string, key: string, extra: KvLeaseOptions = {}): Promise<KvLease> => {
    const l = await KvLease.open(nc, { bucket: 'ipam-lease', key, holderId, ttlMs: TTL, ...extra });
    leases.push(l);
    return l;
  };
  const freshKey = (): string => `k${++keyN}`;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
  });
  afterEach(async () => {
    await Promise.allSettled(leases.splice(0).map((l) => l.stop(false)));
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('creates the bucket with history 1 and file storage', async () => {
    const l = await open('a', freshKey());
    const status = await l.kv.status();
    expect(status.history).toBe(1);
    expect(status.streamInfo.config.storage).toBe('file');
  });

  it('lets only one of two instances acquire', async () => {
    const key = freshKey();
    const acquired: string[] = [];
    const a = await open('a', key, { onAcquired: (l) => acquired.push(l.holderId) });
    const b = await open('b', key, { onAcquired: (l) => acquired.push(l.holderId) });

    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(a.isHeld()).toBe(true);
    expect(a.canAct()).toBe(true);
    expect(b.isHeld()).toBe(false);
    expect(b.canAct()).toBe(false);
    expect(acquired).toEqual(['a']);

    const cur = await a.current();
    expect(cur?.holder).toBe('a');
    expect(cur?.revision).toBe(a.heldRevision);
    expect(cur!.expiresAt).toBeGreaterThan(Date.now());
    expect(a.validUntil).toBeGreaterThan(performance.now());
    expect(a.validUntil).toBeLessThanOrEqual(performance.now() + TTL - a.safetyMarginMs);

    // renewal keeps it and moves the revision
    const rev = a.heldRevision;
    expect(await a.renew()).toBe(true);
    expect(a.heldRevision).toBeGreaterThan(rev);
    expect(await b.tryAcquire()).toBe(false);
  });

  it('lets exactly one of many concurrent contenders acquire a free lease', async () => {
    const key = freshKey();
    const contenders = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => open(id, key)));
    const results = await Promise.all(contenders.map((l) => l.tryAcquire()));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('hands over after the holder stops renewing and the TTL passes; the stale holder’s CAS then fails', async () => {
    const key = freshKey();
    const clockA = pausableClock();
    const lostA: LeaseLostReason[] = [];
    const a = await open('a', key, { clock: { monoNow: clockA.monoNow }, onLost: (r) => lostA.push(r) });
    const b = await open('b', key);

    expect(await a.tryAcquire()).toBe(true);
    clockA.freeze(); // A is "paused": it renews no more and its local clock does not move
    expect(await b.tryAcquire()).toBe(false);

    const t0 = Date.now();
    await waitFor(() => b.tryAcquire(), 3 * TTL);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(TTL - 100);
    expect(b.isHeld()).toBe(true);
    expect((await b.current())?.holder).toBe('b');

    // A resumes believing it still holds the lease: its renewal CAS fails and it learns it was superseded.
    expect(a.isHeld()).toBe(true);
    expect(await a.renew()).toBe(false);
    expect(a.isHeld()).toBe(false);
    expect(a.canAct()).toBe(false);
    expect(lostA).toEqual(['superseded']);
    // and it cannot take the lease back while B holds it
    expect(await a.tryAcquire()).toBe(false);
    expect((await b.current())?.holder).toBe('b');
  });

  it('stops a paused holder from acting once validUntil passes, even before any timer runs', async () => {
    const key = freshKey();
    const clock = pausableClock();
    const a = await open('a', key, { clock: { monoNow: clock.monoNow } });
    expect(await a.tryAcquire()).toBe(true);
    expect(a.canAct()).toBe(true);
    clock.advance(TTL - a.safetyMarginMs); // the process "slept" through its validity
    expect(a.canAct()).toBe(false);
  });

  it('loses the lease as expired when renewals stop, and reacquires it if nobody took over', async () => {
    const key = freshKey();
    const lost: LeaseLostReason[] = [];
    const a = await open('a', key, { onLost: (r) => lost.push(r) });
    expect(await a.tryAcquire()).toBe(true);
    await waitFor(() => lost.length > 0, 2 * TTL);
    expect(lost).toEqual(['expired']);
    expect(a.isHeld()).toBe(false);
    expect(a.canAct()).toBe(false);
    expect(await a.tryAcquire()).toBe(true); // the entry still names A: it can continue
  });

  it('release frees the lease at once; a stale holder’s release does not delete the new holder’s lease', async () => {
    const key = freshKey();
    const a = await open('a', key);
    const b = await open('b', key);
    expect(await a.tryAcquire()).toBe(true);
    await a.release();
    expect(a.isHeld()).toBe(false);
    expect(await a.current()).toBeNull();
    expect(await b.tryAcquire()).toBe(true);

    // B is paused past the TTL, A takes over, then B (stale) releases: A's lease must survive.
    const clockC = pausableClock();
    const c = await open('c', key, { clock: { monoNow: clockC.monoNow } });
    await b.stop(true);
    expect(await c.tryAcquire()).toBe(true);
    clockC.freeze();
    await waitFor(() => a.tryAcquire(), 3 * TTL);
    await c.release();
    expect((await a.current())?.holder).toBe('a');
  });

  it('adopts a revision it wrote but never saw acknowledged (lost PubAck) instead of giving up', async () => {
    const key = freshKey();
    const a = await open('a', key);
    expect(await a.tryAcquire()).toBe(true);
    // Simulate a renewal that was stored although its ack was lost: the entry moves on, still naming A.
    await a.kv.put(key, JSON.stringify({ holder: 'a', expiresAt: Date.now() + TTL, ttlMs: TTL }));
    expect(await a.renew()).toBe(true);
    expect((await a.current())?.revision).toBe(a.heldRevision);
  });

  it('documents the clock-skew failure mode: a challenger whose wall clock runs ahead takes over early', async () => {
    const key = freshKey();
    const a = await open('a', key, { ttlMs: 5000 });
    const skewed = await open('skewed', key, { clock: { wallNow: () => Date.now() + 10_000 } });
    expect(await a.tryAcquire()).toBe(true);
    expect(await skewed.tryAcquire()).toBe(true); // 10 s of skew > 5 s TTL: exclusion is broken
    expect(a.canAct()).toBe(true); // and A cannot know until it renews
    expect(await a.renew()).toBe(false);
  });

  it('runs in the background: one holder at a time, handing over on stop', async () => {
    const key = freshKey();
    const events: string[] = [];
    const a = await open('a', key, {
      onAcquired: () => events.push('a+'),
      onLost: (r) => events.push(`a-${r}`),
    });
    const b = await open('b', key, {
      onAcquired: () => events.push('b+'),
      onLost: (r) => events.push(`b-${r}`),
    });
    a.start();
    await waitFor(() => a.isHeld());
    b.start();
    await sleep(2 * TTL); // several renewal periods: A keeps it, B never gets it
    expect(a.isHeld()).toBe(true);
    expect(b.isHeld()).toBe(false);
    expect(events).toEqual(['a+']);

    await a.stop(); // releases
    await waitFor(() => b.isHeld(), 3 * TTL);
    expect(events).toEqual(['a+', 'a-released', 'b+']);
    await b.stop();
    expect(b.isHeld()).toBe(false);
  });
});
