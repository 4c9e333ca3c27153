/**
 * Graceful shutdown of the built service: SIGTERM (and SIGINT) make it exit with code 0 within a few
 * seconds, releasing the decider lease (so a successor does not wait for the TTL), and an input in
 * flight is never lost or answered twice.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../support/nats.js';
import {
  leaseHolder,
  requireBuiltService,
  spawnService,
  testServiceEnv,
  stopAllServices,
  waitForLeader,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { publishInput, StreamAudit, waitFor } from '../support/stream-audit.js';
import { publishAll, randomLbInputs, seededRandom, workloadPools } from './workload.js';

const STREAM = 'IPAM_SHUTDOWN';
/** long, so that a successor taking over quickly proves the lease was released, not expired */
const LEASE_TTL_MS = 20_000;

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let audit: StreamAudit;

function start(id: string, logLevel = 'warn'): ServiceProcess {
  return spawnService(
    testServiceEnv(nats.url, {
      IPAM_STREAM: STREAM,
      IPAM_INSTANCE_ID: id,
      LOG_LEVEL: logLevel,
      IPAM_LEASE_TTL_MS: String(LEASE_TTL_MS),
    }),
  );
}

async function timedTerminate(p: ServiceProcess, signal: NodeJS.Signals, timeoutMs = 10_000) {
  const t0 = Date.now();
  const exit = await p.terminate(signal, timeoutMs);
  return { exit, ms: Date.now() - t0 };
}

beforeAll(async () => {
  requireBuiltService();
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
  audit = new StreamAudit(nc, STREAM);
}, 30_000);

afterAll(async () => {
  await stopAllServices();
  await nats?.stop();
});

describe('graceful shutdown', () => {
  it('SIGTERM to a live leader: exit code 0 within 5 s, lease released', async () => {
    const p = start('stop-1');
    await waitForLeader(nc, STREAM, p, 20_000);
    await publishAll(js, workloadPools('stop'));
    const seq = await publishInput(
      js,
      'ipam.lb.requested',
      { metadata: { namespace: 'work', name: 'first' } },
      'stop-first',
    );
    expect((await audit.waitForOutcome(seq)).subject).toBe('ipam.ip.allocated');

    const { exit, ms } = await timedTerminate(p, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(5000);
    // released at once, long before the TTL would have run out
    expect(await leaseHolder(nc, STREAM)).toBeNull();
    expect(p.stderr()).toBe('');
  }, 30_000);

  it('SIGTERM while inputs stream in: exit 0, the successor takes over at once, each input answered once', async () => {
    const rand = seededRandom(7);
    const p = start('stop-2');
    await waitForLeader(nc, STREAM, p, 20_000);
    const seqs: number[] = [];
    const publishing = publishAll(js, randomLbInputs(rand, 200, 'stop-2'), { paceMs: 2, seqs });
    await waitFor(
      'stop-2 to answer 30 inputs',
      async () => {
        await audit.refresh();
        const by = audit.outcomesByCause();
        return seqs.filter((s) => by.has(s)).length >= 30;
      },
      { timeoutMs: 15_000, intervalMs: 10 },
    );
    const { exit, ms } = await timedTerminate(p, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(5000);
    await publishing;

    const started = Date.now();
    const next = start('stop-3');
    await waitForLeader(nc, STREAM, next, 15_000);
    expect(Date.now() - started).toBeLessThan(LEASE_TTL_MS / 2);
    await audit.waitUntilAllAnswered({ timeoutMs: 20_000 });
    audit.assertExactlyOnce();
    expect(audit.foldHoldings().violations).toEqual([]);

    // next keeps leading for the test below
    expect(next.isRunning()).toBe(true);
  }, 60_000);

  it('SIGINT to a standby just as it has caught up with the stream: exit 0 within 5 s, the leader keeps deciding', async () => {
    // the leader is stop-3 from the test above
    expect(await leaseHolder(nc, STREAM)).toBe('stop-3');
    for (const id of ['stop-4', 'stop-5']) {
      const standby = start(id, 'info');
      await standby.waitForLine('caught up with the stream', 20_000);
      const { exit, ms } = await timedTerminate(standby, 'SIGINT', 6000);
      expect({ id, exit }).toEqual({ id, exit: { code: 0, signal: null } });
      expect(ms).toBeLessThan(5000);
    }
    expect(await leaseHolder(nc, STREAM)).toBe('stop-3');
    const after = await publishInput(
      js,
      'ipam.lb.requested',
      { metadata: { namespace: 'work', name: 'after' } },
      'stop-after',
    );
    expect((await audit.waitForOutcome(after)).subject).toBe('ipam.ip.allocated');
    await audit.waitUntilAllAnswered({ timeoutMs: 10_000 });
    audit.assertExactlyOnce();
  }, 60_000);
});
