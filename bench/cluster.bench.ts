/**
 * The service on a three-node NATS cluster (deploy/nats/cluster/ on free loopback ports, R3 stream,
 * IPAM_STREAM_REPLICAS=3) under a small steady load (100 LBRequested / LBDeleted per second, each with a
 * Nats-Msg-Id, retried with the same id until acknowledged), while the stream's leader node is killed
 * with SIGKILL and restarted, three times:
 *
 * - clusterLeaderOutageMs: from the kill to the first PubAck of a publish sent after it (median of the
 *   three kills; the note has each);
 * - clusterDecisionGapMs: the longest time without an outcome published after each kill (median);
 * - clusterLost: acknowledged inputs missing from the stream or left without an outcome, plus inputs
 *   never acknowledged (target 0);
 * - clusterDuplicated: inputs stored more than once (same msg id at two sequences) plus extra outcomes of
 *   one input (target 0).
 *
 * An address held by two load balancers at once (folded from the outcomes) fails the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { IpamClient } from '../libs/ipam-client/src/index.js';
import { EventStore } from '../libs/jetstream/src/index.js';
import { startNatsCluster } from '../libs/jetstream/src/nats-cluster.launcher.js';
import { OutcomeTimes, SteadyLoad, type LoadInput } from './cluster-load.js';
import { check, fmt, log, median, prng, report } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const serviceMain = join(root, 'dist/apps/ipam/src/main.js');
const STREAM = 'IPAM';
const RATE = 100;
const KILLS = 3;
const INPUT_SUBJECTS =
  /^ipam\.(pool\.(created|updated|deleted|historyimported)|lb\.(requested|deleted)|ip\.releaserequested)$/;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

function lbInput(rand: () => number, i: number): LoadInput {
  const name = `lb-${Math.floor(rand() * 300)}`;
  return {
    subject: rand() < 0.65 ? 'ipam.lb.requested' : 'ipam.lb.deleted',
    msgId: `bench-cluster-${i}`,
    body: { metadata: { namespace: 'work', name } },
  };
}

const configs = [1, 2, 3].map((i) => join(root, 'deploy/nats/cluster', `n${i}.conf`));
const stores = configs.map((_, i) => mkdtempSync(join(tmpdir(), `ipam-bench-cluster-n${i + 1}-`)));
const cluster = await startNatsCluster({ configFiles: configs, storeDirs: stores });
log(`cluster ${cluster.nodes.map((n) => `${n.name} ${n.url}`).join(', ')}`);
let serviceOut = '';
const service = spawn(process.execPath, [serviceMain], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NATS_URL: cluster.servers,
    IPAM_STREAM: STREAM,
    IPAM_STREAM_REPLICAS: '3',
    IPAM_INSTANCE_ID: 'bench-cluster',
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
service.stdout.on('data', (c: Buffer) => (serviceOut = (serviceOut + c.toString()).slice(-20_000)));
service.stderr.on('data', (c: Buffer) => (serviceOut = (serviceOut + c.toString()).slice(-20_000)));
const nc = await connect({
  servers: cluster.urls,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 100,
  name: 'bench-cluster',
});

try {
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  const leaderOf = (stream: string) =>
    until(
      `a leader of ${stream}`,
      async () => {
        const name = (await jsm.streams.info(stream)).cluster?.leader;
        const node = name ? cluster.byName(name) : undefined;
        return node?.isRunning() ? node : null;
      },
      60_000,
    );
  await leaderOf(STREAM).catch((e: unknown) => {
    throw new Error(`${String(e)}; the service wrote:\n${serviceOut}`);
  });
  check((await jsm.streams.info(STREAM)).config.num_replicas === 3, 'the stream has 3 replicas');
  const client = new IpamClient(nc, { stream: STREAM, timeoutMs: 2000 });
  const pool = await client.publishAndWait(
    'ipam.pool.created',
    new TextEncoder().encode(
      JSON.stringify({
        metadata: { name: 'cluster' },
        spec: { ranges: [{ subnet: '10.30.0.0/22' }], selector: { scope: [{ namespace: '*' }] } },
      }),
    ),
    { msgId: 'bench-cluster-pool', timeoutMs: 10_000, outcomeTimeoutMs: 30_000 },
  );
  check(pool.outcome.subject === 'ipam.pool.accepted', 'the pool is accepted');

  const rand = prng(15);
  const load = new SteadyLoad({
    client,
    ratePerSec: RATE,
    input: (i) => lbInput(rand, i),
    ackTimeoutMs: 2000,
  });
  const outcomes = new OutcomeTimes(nc);
  load.start();
  const outages: number[] = [];
  const gaps: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    await sleep(3000);
    const victim = await leaderOf(STREAM);
    const killedAt = performance.now();
    await cluster.kill9(victim.index);
    const outage = await until(
      `a PubAck after ${victim.name} was killed`,
      async () => load.firstAckAfter(killedAt),
      60_000,
    );
    await sleep(2000);
    await cluster.restart(victim.index);
    await until(
      'every replica current',
      async () => {
        const c = (await jsm.streams.info(STREAM)).cluster;
        return (
          c?.leader !== undefined &&
          (c.replicas ?? []).length === 2 &&
          (c.replicas ?? []).every((r) => r.current)
        );
      },
      60_000,
    );
    const gap = outcomes.longestGap(killedAt, performance.now());
    outages.push(outage);
    gaps.push(gap);
    log(
      `kill ${k + 1}: stream leader ${victim.name}: publish outage ${fmt(outage)} ms, longest gap between outcomes ${fmt(gap)} ms`,
    );
  }
  await sleep(2000);
  await load.stop();
  outcomes.stop();

  // read the stream until every input has an outcome (or a minute has passed)
  const store = new EventStore(nc, STREAM, { timeoutMs: 5000 });
  const inputsById = new Map<string, number[]>();
  const outcomesBy = new Map<number, Array<{ subject: string; body: Record<string, unknown> }>>();
  const inputSeqs: number[] = [];
  let readTo = 0;
  const dec = new TextDecoder();
  const deadline = Date.now() + 60_000;
  for (;;) {
    for await (const m of store.read({ fromSeq: readTo + 1 })) {
      readTo = m.seq;
      if (INPUT_SUBJECTS.test(m.subject)) {
        inputSeqs.push(m.seq);
        const id = m.msgId ?? '';
        inputsById.set(id, [...(inputsById.get(id) ?? []), m.seq]);
      } else {
        const body = JSON.parse(dec.decode(m.data)) as Record<string, unknown>;
        const cause = Number(body.causationSeq);
        outcomesBy.set(cause, [...(outcomesBy.get(cause) ?? []), { subject: m.subject, body }]);
      }
    }
    if (inputSeqs.every((s) => outcomesBy.has(s)) || Date.now() > deadline) break;
    await sleep(500);
  }

  // never acknowledged, acknowledged but not in the stream, or in the stream without an outcome
  let lost = load.gaveUp.length;
  for (const a of load.acked.values()) if (!inputsById.has(a.msgId)) lost++;
  lost += inputSeqs.filter((s) => !outcomesBy.has(s)).length;
  let duplicated = 0;
  for (const seqs of inputsById.values()) duplicated += seqs.length - 1;
  for (const list of outcomesBy.values()) duplicated += list.length - 1;

  // no address held twice: fold the first outcome of each input, in input order
  const byAddress = new Map<string, string>();
  const byLb = new Map<string, string>();
  const violations: string[] = [];
  for (const seq of [...outcomesBy.keys()].sort((a, b) => a - b)) {
    const { subject, body } = outcomesBy.get(seq)![0];
    const lb = String(body.loadBalancer);
    const addr = `${String(body.ipPool)}|${String(body.ip)}`;
    if (subject === 'ipam.ip.allocated') {
      const holder = byAddress.get(addr);
      if (holder !== undefined && holder !== lb)
        violations.push(`${addr} given to ${lb} while ${holder} held it`);
      byAddress.set(addr, lb);
      byLb.set(lb, addr);
    } else if (subject === 'ipam.ip.released') {
      byAddress.delete(addr);
      byLb.delete(lb);
    }
  }
  check(violations.length === 0, `no address held twice: ${violations.slice(0, 5).join('; ')}`);
  check(load.count > RATE * KILLS * 5, 'the load ran');

  const note = `${fmt(load.count)} inputs at ${RATE}/s, stream leader killed -9 ${KILLS}x`;
  report({ name: 'clusterLost', value: lost, unit: 'inputs', target: { op: '<=', value: 0 }, note });
  report({
    name: 'clusterDuplicated',
    value: duplicated,
    unit: 'inputs',
    target: { op: '<=', value: 0 },
    note: 'stored twice, or answered twice',
  });
  report({
    name: 'clusterLeaderOutageMs',
    value: Math.round(median(outages)),
    unit: 'ms',
    note: `kill -9 of the stream leader -> first PubAck of a later publish, median of ${outages.map((x) => fmt(x)).join(' / ')}`,
  });
  report({
    name: 'clusterDecisionGapMs',
    value: Math.round(median(gaps)),
    unit: 'ms',
    note: `longest time without an outcome around each kill, median of ${gaps.map((x) => fmt(x)).join(' / ')}`,
  });
} finally {
  service.kill('SIGKILL');
  await nc.close().catch(() => undefined);
  await cluster.stopAll();
  for (const s of stores) rmSync(s, { recursive: true, force: true });
}
