/**
 * Crash safety: the built service (child process) is killed with SIGKILL while LBRequested/LBDeleted
 * stream in, more inputs are published while it is down, and a new instance is started; at the end
 * every input of the stream has exactly one outcome, no address is held by two load balancers (folded
 * by hand from ipam.ip.allocated / ipam.ip.released), the service's queries agree with that fold, and
 * every decision equals the one an uninterrupted service makes for the same inputs.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../support/nats.js';
import {
  requireBuiltService,
  spawnService,
  testServiceEnv,
  stopAllServices,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { sleep, StreamAudit, waitFor } from '../support/stream-audit.js';
import {
  decision,
  oracleDecisions,
  publishAll,
  randomLbInputs,
  seededRandom,
  workloadPools,
} from './workload.js';

const STREAM = 'IPAM_CRASH';
const SEED = Number(process.env.IPAM_TEST_SEED ?? Date.now() % 1_000_000);

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let audit: StreamAudit;

function start(id: string): ServiceProcess {
  return spawnService(testServiceEnv(nats.url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: id }));
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

describe('kill -9 while inputs stream in', () => {
  it('every input gets exactly one outcome, no address is held twice, decisions are unchanged', async () => {
    const rand = seededRandom(SEED);
    const note = `(seed ${SEED}; rerun with IPAM_TEST_SEED=${SEED})`;
    const kills: Array<{ id: string; signal: string | null }> = [];
    let svc = start('crash-0');
    // the service creates the stream; publish the pools once it exists
    await waitFor('the stream to exist', () => audit.lastSeq().then(() => true), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    await publishAll(js, workloadPools('crash'));

    for (let round = 0; round < 3; round++) {
      // the instance is deciding: one input of this round answered
      const [probe] = await publishAll(js, randomLbInputs(rand, 1, `crash-r${round}-probe`));
      await audit.waitForOutcome(probe, 20_000);
      // a paced stream of inputs; kill -9 somewhere inside it
      const batch = randomLbInputs(rand, 100, `crash-r${round}`);
      const seqs: number[] = [];
      const publishing = publishAll(js, batch.slice(0, 70), { paceMs: 4, seqs });
      await sleep(20 + Math.floor(rand() * 250));
      const exit = await svc.kill9();
      kills.push({ id: svc.instanceId, signal: exit.signal });
      await publishing;
      // more while it is down
      await publishAll(js, batch.slice(70));
      // the last restart reuses the killed instance's id (a pod restarted under its old name): it finds
      // the lease under its own name and takes over at once
      svc = start(round === 2 ? svc.instanceId : `crash-${round + 1}`);
      if (round === 1) {
        // a second kill point: while the new instance starts, waits for the lease or catches up
        await sleep(300 + Math.floor(rand() * 1500));
        const early = await svc.kill9();
        kills.push({ id: svc.instanceId, signal: early.signal });
        await publishAll(js, randomLbInputs(rand, 20, `crash-r${round}-early`));
        svc = start(`crash-${round + 1}-b`);
      }
    }

    await audit.waitUntilAllAnswered({ timeoutMs: 40_000, settleMs: 500 });
    expect(kills.map((k) => k.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL']);

    // exactly one outcome per input, over the whole stream
    const problems = audit.exactlyOnceProblems();
    if (problems.length > 0)
      throw new Error(`${problems.length} problems ${note}:\n${problems.slice(0, 30).join('\n')}`);
    const inputs = audit.inputs();
    expect(inputs.length).toBe(2 + 3 * 101 + 20);

    // no address held twice (folded by hand)
    const held = audit.foldHoldings();
    expect({ violations: held.violations, note }).toEqual({ violations: [], note });
    expect(held.byLoadBalancer.size).toBeGreaterThan(0);

    // the live instance reports the same holdings
    const reply = await nc.request('ipam.query.pools', '{}', { timeout: 5000 });
    const { items } = reply.json<{
      items: Array<{ metadata: { name: string }; status: { allocated: Record<string, string> } }>;
    }>();
    const served = new Map<string, string>();
    for (const p of items)
      for (const [ip, lb] of Object.entries(p.status.allocated)) served.set(`${p.metadata.name}|${ip}`, lb);
    expect(served).toEqual(held.byAddress);

    // the crashes changed no decision: an uninterrupted service decides every input the same way
    const by = audit.outcomesByCause();
    const actual = inputs.map((i) => {
      const o = by.get(i.seq)![0];
      return decision(o.subject, o.body);
    });
    const expected = await oracleDecisions(STREAM, inputs);
    const diffs = actual.flatMap((a, k) =>
      a === expected[k] ? [] : [`input seq ${inputs[k].seq}: got ${a}, expected ${expected[k]}`],
    );
    expect({ diffs: diffs.slice(0, 10), note }).toEqual({ diffs: [], note });

    // and it still stops cleanly
    expect(await svc.terminate('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('nats-server killed with SIGKILL under a running service: it reconnects and answers every input exactly once', async () => {
    const rand = seededRandom(SEED + 1);
    const svc = start('crash-nats');
    const probe = await publishAll(js, randomLbInputs(rand, 1, 'nats-probe'));
    await audit.waitForOutcome(probe[0], 20_000);
    // publishers retry with the same Nats-Msg-Id while the server is away
    const seqs: number[] = [];
    const publishing = publishAll(js, randomLbInputs(rand, 120, 'nats'), {
      paceMs: 5,
      seqs,
      retryMs: 20_000,
    });
    await sleep(100 + Math.floor(rand() * 200));
    await nats.kill9();
    await sleep(300);
    await nats.restart();
    await publishing;
    expect(seqs).toHaveLength(120);
    expect(new Set(seqs).size).toBe(120);
    await audit.waitUntilAllAnswered({ timeoutMs: 40_000, settleMs: 500 });
    const problems = audit.exactlyOnceProblems();
    if (problems.length > 0)
      throw new Error(`${problems.length} problems (seed ${SEED}):\n${problems.slice(0, 30).join('\n')}`);
    expect(audit.foldHoldings().violations).toEqual([]);
    expect(svc.isRunning()).toBe(true);
    expect(await svc.terminate('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
