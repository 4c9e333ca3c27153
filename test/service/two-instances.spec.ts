/**
 * Two instances on one stream (child processes of the built service): one decides (the lease holder),
 * the other stands by. A few hundred mixed inputs; the leader is killed with SIGKILL midway; the standby
 * takes over. Every input gets exactly one outcome, no address is held twice, and the instances answer
 * queries consistently (NATS queries, and each instance's own /readyz and /metrics).
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
import { StreamAudit, waitFor } from '../support/stream-audit.js';
import { publishAll, randomLbInputs, seededRandom, workloadPools } from './workload.js';

const STREAM = 'IPAM_PAIR';
const SEED = Number(process.env.IPAM_TEST_SEED ?? Date.now() % 1_000_000);

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let audit: StreamAudit;

function start(id: string): ServiceProcess {
  return spawnService(
    testServiceEnv(nats.url, {
      IPAM_STREAM: STREAM,
      IPAM_INSTANCE_ID: id,
      // info: the "ipam service started" line tells the HTTP address
      LOG_LEVEL: 'info',
    }),
  );
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/readyz`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** `ipam_pool_allocated` per pool, and `ipam_leader`, from an instance's /metrics. */
async function metrics(url: string): Promise<{ allocated: Record<string, number>; leader: number | null }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const allocated: Record<string, number> = {};
  let leader: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^ipam_pool_allocated\{pool="([^"]+)"\} (\d+)$/.exec(line);
    if (m) allocated[m[1]] = Number(m[2]);
    const l = /^ipam_leader (\d+)$/.exec(line);
    if (l) leader = Number(l[1]);
  }
  return { allocated, leader };
}

type PoolsReply = {
  items: Array<{ metadata: { name: string }; status: { allocated: Record<string, string> } }>;
};

// each test has a server, a stream and a lease of its own (and a failed one leaves no instance running)
beforeEach(async () => {
  requireBuiltService();
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
  audit = new StreamAudit(nc, STREAM);
}, 30_000);

afterEach(async () => {
  await stopAllServices();
  await nats?.stop();
}, 30_000);

describe('two instances, the leader killed midway', () => {
  it('exactly one outcome per input, no address held twice, consistent answers', async () => {
    const rand = seededRandom(SEED);
    const note = `(seed ${SEED}; rerun with IPAM_TEST_SEED=${SEED})`;
    // both start at once; whichever takes the lease first leads
    const pair = [start('pair-a'), start('pair-b')];
    await Promise.all(pair.map((p) => p.httpUrl(20_000)));
    const first = await waitFor('a lease holder', () => leaseHolder(nc, STREAM), { timeoutMs: 10_000 });
    const leader = pair.find((p) => p.instanceId === first)!;
    const standby = pair.find((p) => p !== leader)!;
    expect(leader).toBeDefined();
    await publishAll(js, workloadPools('pair'));

    // 300 inputs, paced; the leader is killed while they stream in, after it answered 80 of them
    const inputs = randomLbInputs(rand, 300, 'pair');
    const seqs: number[] = [];
    const publishing = publishAll(js, inputs, { paceMs: 3, seqs });
    await waitFor(
      'the leader to answer 80 inputs',
      async () => {
        await audit.refresh();
        const by = audit.outcomesByCause();
        return seqs.filter((s) => by.has(s)).length >= 80;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    expect(await leaseHolder(nc, STREAM)).toBe(leader.instanceId);
    expect((await leader.kill9()).signal).toBe('SIGKILL');
    const publishedAtKill = seqs.length;
    // a third instance starts while the standby takes over
    const c = start('pair-c');
    await publishing;
    expect(publishedAtKill).toBeLessThan(300);

    await audit.waitUntilAllAnswered({ timeoutMs: 30_000, settleMs: 500 });
    // the standby or the newcomer took the lease over (they race for it once it expires)
    const next = await waitFor(
      'a new lease holder',
      async () => {
        const h = await leaseHolder(nc, STREAM);
        return h === standby.instanceId || h === c.instanceId ? h : null;
      },
      { timeoutMs: 10_000 },
    );
    const problems = audit.exactlyOnceProblems();
    if (problems.length > 0)
      throw new Error(`${problems.length} problems ${note}:\n${problems.slice(0, 30).join('\n')}`);
    expect(audit.inputs()).toHaveLength(302);
    expect(audit.foldHoldings().violations).toEqual([]);

    // more inputs; the pair (b leads, d stands by) must agree
    const [b, d] = next === standby.instanceId ? [standby, c] : [c, standby];
    const urls = [await b.httpUrl(20_000), await d.httpUrl(20_000)];
    await publishAll(js, randomLbInputs(rand, 60, 'pair-late'));
    await audit.waitUntilAllAnswered({ timeoutMs: 20_000, settleMs: 300 });
    audit.assertExactlyOnce();
    const held = audit.foldHoldings();
    expect(held.violations).toEqual([]);
    const last = await audit.lastSeq();

    // both have read the whole stream
    await waitFor(
      'both instances to read the whole stream',
      async () => {
        const r = await Promise.all(urls.map(readyz));
        return r.every((x) => x.status === 200 && x.body.position === last);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const [rb, rc] = await Promise.all(urls.map(readyz));
    expect(rb.body).toMatchObject({ leader: true, position: last, lag: 0 });
    expect(rc.body).toMatchObject({ leader: false, position: last, lag: 0 });

    // each instance's own view: allocated addresses per pool equal the hand fold
    const perPool: Record<string, number> = { global: 0, tiny: 0 };
    for (const addr of held.byAddress.keys()) perPool[addr.split('|')[0]]++;
    const [mb, mc] = await Promise.all(urls.map(metrics));
    expect(mb).toEqual({ allocated: perPool, leader: 1 });
    expect(mc).toEqual({ allocated: perPool, leader: 0 });

    // NATS queries go to either instance (queue group): every answer is the same, and equals the fold
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        nc.request('ipam.query.pools', '{}', { timeout: 5000 }).then((m) => m.string()),
      ),
    );
    expect(new Set(replies).size).toBe(1);
    const served = new Map<string, string>();
    for (const p of (JSON.parse(replies[0]) as PoolsReply).items) {
      for (const [ip, lb] of Object.entries(p.status.allocated)) served.set(`${p.metadata.name}|${ip}`, lb);
    }
    expect(served).toEqual(held.byAddress);
    for (const [lb, addr] of [...held.byLoadBalancer].slice(0, 5)) {
      const [namespace, name] = lb.split('/');
      const [pool, ip] = addr.split('|');
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          nc
            .request('ipam.query.lb', JSON.stringify({ namespace, name }), { timeout: 5000 })
            .then((m) => m.json()),
        ),
      );
      for (const r of answers) expect(r).toMatchObject({ loadBalancer: lb, ipPool: pool, ip });
    }

    // both stop cleanly
    const exits = await Promise.all([b.terminate('SIGTERM'), d.terminate('SIGTERM')]);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  }, 90_000);
});

describe('two instances, the leader paused (SIGSTOP) and resumed', () => {
  it('the standby takes over; the resumed old leader decides nothing more and follows', async () => {
    const rand = seededRandom(SEED + 1);
    const note = `(seed ${SEED}; rerun with IPAM_TEST_SEED=${SEED})`;
    const pair = [start('pause-a'), start('pause-b')];
    await Promise.all(pair.map((p) => p.httpUrl(20_000)));
    const ids = pair.map((p) => p.instanceId);
    const first = await waitFor(
      'one of the pair to hold the lease',
      async () => {
        const h = await leaseHolder(nc, STREAM);
        return h !== null && ids.includes(h) ? h : null;
      },
      { timeoutMs: 10_000 },
    );
    const paused = pair.find((p) => p.instanceId === first)!;
    const other = pair.find((p) => p !== paused)!;
    expect(paused).toBeDefined();
    await publishAll(js, workloadPools('pause'));

    const seqs: number[] = [];
    const publishing = publishAll(js, randomLbInputs(rand, 150, 'pause'), { paceMs: 3, seqs });
    await waitFor(
      'the leader to answer 40 inputs',
      async () => {
        await audit.refresh();
        const by = audit.outcomesByCause();
        return seqs.filter((s) => by.has(s)).length >= 40;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    paused.child.kill('SIGSTOP');
    await publishing;
    await waitForLeader(nc, STREAM, other, 15_000);
    await audit.waitUntilAllAnswered({ timeoutMs: 30_000, settleMs: 300 });

    // inputs while the old leader is still paused: the new leader answers them
    const during = await publishAll(js, randomLbInputs(rand, 20, 'pause-during'), { paceMs: 2 });
    try {
      await audit.waitUntilAllAnswered({ timeoutMs: 10_000, settleMs: 100 });
    } catch (e) {
      const by = audit.outcomesByCause();
      throw new Error(
        `${during.filter((s) => !by.has(s)).length} of the ${during.length} inputs published while the old leader ` +
          `was paused got no outcome from the new leader: ${String(e)}`,
        { cause: e },
      );
    }

    // the old leader wakes up with a lease it no longer holds
    paused.child.kill('SIGCONT');
    await publishAll(js, randomLbInputs(rand, 50, 'pause-late'), { paceMs: 2 });
    // (healthy: a second or two; an input skipped by the new leader is never answered, so do not wait long)
    await audit.waitUntilAllAnswered({ timeoutMs: 15_000, settleMs: 1000 });
    const problems = audit.exactlyOnceProblems();
    if (problems.length > 0)
      throw new Error(`${problems.length} problems ${note}:\n${problems.slice(0, 30).join('\n')}`);
    const held = audit.foldHoldings();
    expect(held.violations).toEqual([]);
    expect(await leaseHolder(nc, STREAM)).toBe(other.instanceId);
    expect(paused.isRunning()).toBe(true);

    // the resumed instance follows the stream as a standby, with the same view
    const last = await audit.lastSeq();
    const urls = [await other.httpUrl(), await paused.httpUrl()];
    await waitFor(
      'both instances to read the whole stream',
      async () =>
        (await Promise.all(urls.map(readyz))).every((x) => x.status === 200 && x.body.position === last),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const perPool: Record<string, number> = { global: 0, tiny: 0 };
    for (const addr of held.byAddress.keys()) perPool[addr.split('|')[0]]++;
    const [mo, mp] = await Promise.all(urls.map(metrics));
    expect(mo).toEqual({ allocated: perPool, leader: 1 });
    expect(mp).toEqual({ allocated: perPool, leader: 0 });

    const exits = await Promise.all([other.terminate('SIGTERM'), paused.terminate('SIGTERM')]);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  }, 90_000);
});
