/**
 * Restart, memory and failover benchmark over real nats-servers (started here on free loopback ports):
 *
 * - a log of 10,000 and one of 1,000,000 events are generated with the domain (a large global pool with
 *   requests, releases and re-requests from history; small churn pools with many holders per address;
 *   rejections) and published straight into a fresh IPAM stream, as the service stores them;
 * - the service is started on each (its durable consumer acknowledged to the end, as on a restart), reads
 *   the whole stream (`fullReplayMs*`, a same-run baseline) and writes snapshots as configured (every
 *   50,000 events by default, and after IPAM_SNAPSHOT_EVERY_MS = 5 s here when idle, so that the end of
 *   the log is covered too);
 * - restartMs10k / restartMs1M: that service is killed with SIGKILL and a new one started on the same
 *   host; from the kill until the new one's /readyz says ready at the stream's last sequence. The new one
 *   must say it loaded a snapshot (1M) and how many events it folded; restartGrowth = their ratio;
 * - rssMb1M: the restarted service's resident memory (VmRSS) at ready on the 1M stream; rssMb1MAudit the
 *   same once its audit read model of the stream before the snapshot is built;
 * - failoverMs: two services on the 10k stream, the standby on another host (its own UTS namespace with
 *   another host name, `unshare -u`, when this runs as root; else the same host, said in the note): the
 *   leader is killed with SIGKILL and one input is published at once; the time from the kill until the
 *   stream holds that input's outcome, decided by the standby.
 *
 * `node --expose-gc dist/bench/restart.bench.js [bigEvents]` runs it with another size.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { decide, evolve, holdingOf, initialState, type IpamCommand } from '../libs/ipam-domain/src/index.js';
import { ensureIpamStream, freePort, startNatsServer } from '../libs/jetstream/src/index.js';
import { OUTCOME_SUBJECTS, outcomeMsgId } from '../libs/ipam-contract/src/index.js';
import { SnapshotStore } from '../libs/jetstream/src/snapshot-store.js';
import { check, fmt, log, median, prng, report } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const serviceMain = join(root, 'dist/apps/ipam/src/main.js');

const BIG = Number(process.argv[2] ?? 1_000_000);
const SMALL = 10_000;
const STREAM = 'IPAM';
const CONSUMER = 'ipam-allocator';
const RESTARTS = 3;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// ---------------------------------------------------------------------------------------------------
// the log

interface Message {
  subject: string;
  body: string;
  msgId: string;
}

function generate(count: number): Message[] {
  const state = initialState();
  const messages: Message[] = [];
  const rnd = prng(7);
  let pending: Array<{ seq: number; command: IpamCommand }> = [];
  const input = (subject: string, body: unknown, make: (seq: number) => IpamCommand) => {
    const seq = messages.length + 1;
    messages.push({ subject, body: JSON.stringify(body), msgId: `in-${seq}` });
    pending.push({ seq, command: make(seq) });
  };
  const meta = (seq: number) => ({ seq, id: `in-${seq}` });
  const flush = () => {
    for (const { seq, command } of pending) {
      const [event] = decide(command, state);
      evolve(state, event);
      messages.push({
        subject: OUTCOME_SUBJECTS[event.type],
        body: JSON.stringify(event.data),
        msgId: outcomeMsgId(STREAM, seq),
      });
    }
    pending = [];
  };
  const pool = (name: string, subnet: string[], scope: unknown, priority: number) => {
    const p = {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name },
      spec: { ranges: subnet.map((s) => ({ subnet: s })), selector: { priority, scope } },
    };
    input('ipam.pool.created', p, (seq) => ({ type: 'CreatePool', data: { pool: p }, meta: meta(seq) }));
  };
  const request = (namespace: string, name: string) => {
    const body = { metadata: { namespace, name }, spec: {} };
    input('ipam.lb.requested', body, (seq) => ({
      type: 'RequestLoadBalancer',
      data: { loadBalancer: body },
      meta: meta(seq),
    }));
  };
  const release = (namespace: string, name: string) => {
    const body = { metadata: { namespace, name } };
    input('ipam.lb.deleted', body, (seq) => ({
      type: 'DeleteLoadBalancer',
      data: { body },
      meta: meta(seq),
    }));
  };
  for (let k = 0; k < 4; k++) pool(`churn-${k}`, [`10.100.${k}.0/26`], [{ namespace: `churn-${k}` }], k + 1);
  pool('global', ['10.0.0.0/12', 'fd00::/64'], [{ project: '*', namespace: '*', guestCluster: '*' }], 0);
  flush();
  let next = 0;
  const held: number[] = [];
  const released: number[] = [];
  const take = (list: number[]): number | undefined => {
    if (list.length === 0) return undefined;
    const i = Math.floor(rnd() * list.length);
    const x = list[i];
    list[i] = list[list.length - 1];
    list.pop();
    return x;
  };
  while (messages.length + 2 * pending.length < count) {
    const batch = 1 + Math.floor(rnd() * 4);
    for (let b = 0; b < batch && messages.length + 2 * (pending.length + 1) <= count; b++) {
      const r = rnd();
      if (r < 0.4) {
        const ns = `churn-${Math.floor(rnd() * 4)}`;
        const name = `lb-${Math.floor(rnd() * 90)}`;
        if (holdingOf(state, `${ns}/${name}`) !== undefined && rnd() < 0.8) release(ns, name);
        else request(ns, name);
      } else {
        const s = rnd();
        if (s < 0.6 || held.length === 0) {
          const i = next++;
          request(`bulk-${i % 10}`, `lb-${i}`);
          held.push(i);
        } else if (s < 0.9) {
          const i = take(held)!;
          release(`bulk-${i % 10}`, `lb-${i}`);
          released.push(i);
        } else {
          const i = take(released);
          if (i !== undefined) {
            request(`bulk-${i % 10}`, `lb-${i}`);
            held.push(i);
          } else request('bulk-0', 'lb-0');
        }
      }
    }
    flush();
  }
  return messages;
}

async function publishLog(nc: NatsConnection, messages: Message[]): Promise<void> {
  const js = jetstream(nc, { timeout: 60_000 });
  const inFlight: Array<{ seq: number; ack: Promise<{ seq: number; duplicate?: boolean }> }> = [];
  const settleOne = async () => {
    const { seq, ack } = inFlight.shift()!;
    const a = await ack;
    check(a.seq === seq && a.duplicate !== true, `message ${seq} stored at seq ${a.seq}`);
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const seq = i + 1;
    if (seq % 1000 === 0 || seq === messages.length) {
      inFlight.push({ seq, ack: js.publish(m.subject, m.body, { msgID: m.msgId }) });
      if (inFlight.length >= 6) await settleOne();
    } else {
      const h = headers();
      h.set('Nats-Msg-Id', m.msgId);
      nc.publish(m.subject, m.body, { headers: h });
    }
  }
  while (inFlight.length > 0) await settleOne();
}

// ---------------------------------------------------------------------------------------------------
// services

interface Service {
  child: ChildProcess;
  port: number;
  out: () => string;
}

/** Can this process give a child another host name (its own UTS namespace)? */
function canUnshare(): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('unshare', ['-u', 'true']);
  return r.status === 0;
}

async function startService(natsUrl: string, env: Record<string, string>, host?: string): Promise<Service> {
  const port = await freePort();
  const fullEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NATS_URL: natsUrl,
    HTTP_PORT: String(port),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    IPAM_STREAM: STREAM,
    ...env,
  };
  // another host: a UTS namespace of its own with its own host name (the lease records the host)
  const child =
    host === undefined
      ? spawn(process.execPath, [serviceMain], { env: fullEnv, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(
          'unshare',
          ['-u', 'sh', '-c', `hostname ${host} && exec "${process.execPath}" "${serviceMain}"`],
          { env: fullEnv, stdio: ['ignore', 'pipe', 'inherit'] },
        );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  });
  return { child, port, out: () => out };
}

async function readyAt(s: Service, last: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`the service exited with ${s.child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${s.port}/readyz`);
      const body = (await r.json()) as { ready?: boolean; position?: number };
      if (r.status === 200 && body.position === last) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no /readyz 200 at position ${last} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function waitForLog(s: Service, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(s.out());
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`the service did not log ${re} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function kill9(s: Service): Promise<void> {
  return new Promise((r) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
    s.child.once('exit', () => r());
    s.child.kill('SIGKILL');
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

/** The service's own pid (under unshare, the child of the shell it exec'd: the same pid). */
const pidOf = (s: Service) => s.child.pid!;

interface RestartResult {
  fullReplayMs: number;
  restartMs: number;
  loadedSeq: number;
  folded: number;
  rssMb: number;
  rssAuditMb: number;
  pauseMs: number;
  snapshotBytes: number;
  natsUrl: string;
  last: number;
  tail: { ms: number; loadedSeq: number; folded: number } | null;
  stopService: () => Promise<void>;
  stop: () => Promise<void>;
}

const SNAPSHOT_ENV = { IPAM_SNAPSHOT_EVERY_MS: '5000' };

async function restartOn(events: number): Promise<RestartResult> {
  let t = performance.now();
  const messages = generate(events);
  check(messages.length === events, `generated ${messages.length} events, wanted ${events}`);
  log(`generated ${fmt(events)} events in ${fmt((performance.now() - t) / 1000, 1)} s`);
  const server = await startNatsServer({ port: 0 });
  const nc = await connect({ servers: server.url });
  await ensureIpamStream(await jetstreamManager(nc), { name: STREAM });
  t = performance.now();
  await publishLog(nc, messages);
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  check(last === events, `the stream holds ${last} messages, wanted ${events}`);
  log(`published in ${fmt((performance.now() - t) / 1000, 1)} s`);
  await jsm.consumers.add(STREAM, {
    durable_name: CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: last + 1,
    ack_wait: nanos(60_000),
    max_ack_pending: 50_000,
  });

  // the first service: a full read, snapshots written as it goes and once idle
  t = performance.now();
  const first = await startService(server.url, { ...SNAPSHOT_ENV, IPAM_INSTANCE_ID: 'bench-first' });
  await readyAt(first, last, 300_000);
  const fullReplayMs = performance.now() - t;
  log(
    `first service ready after a full read of ${fmt(events)} events in ${fmt(fullReplayMs)} ms (load ${load()})`,
  );
  await waitForLog(
    first,
    new RegExp(`"pauseMs":([0-9.]+)[^\\n]*"msg":"wrote snapshot at seq ${last}"`),
    60_000,
  );
  const pauses = [...first.out().matchAll(/"pauseMs":([0-9.]+)/g)].map((m) => Number(m[1]));
  const writes = [
    ...first.out().matchAll(/"seq":(\d+)[^\n]*"totalMs":(\d+)[^\n]*"msg":"wrote snapshot/g),
  ].map((m) => `${fmt(Number(m[1]))} (${fmt(Number(m[2]))} ms)`);
  log(
    `snapshots at ${writes.join(', ')}; lease lost ${first.out().split('lost the decider lease').length - 1} times`,
  );
  const bytes = Number(
    new RegExp(`"bytes":(\\d+)[^\\n]*"msg":"wrote snapshot at seq ${last}"`).exec(first.out())?.[1] ?? 0,
  );
  log(`snapshots written: ${pauses.length}, export pauses ${pauses.map((p) => fmt(p, 1)).join(', ')} ms`);

  // kill -9, and a new one on the same host: three times, the median (this machine's speed varies by a
  // third from one second to the next); the last one stays up for the memory figures
  let victim = first;
  const times: number[] = [];
  let second = first;
  for (let round = 0; round < RESTARTS; round++) {
    await kill9(victim);
    t = performance.now();
    second = await startService(server.url, { ...SNAPSHOT_ENV, IPAM_INSTANCE_ID: `bench-second-${round}` });
    await readyAt(second, last, 300_000);
    times.push(performance.now() - t);
    victim = second;
  }
  const restartMs = median(times);
  log(`restarts: ${times.map((x) => fmt(x)).join(', ')} ms`);
  const rss = rssMb(pidOf(second));
  const deciding = await waitForLog(second, /"snapshotSeq":(\d+),"folded":(\d+)/, 10_000);
  const loadedSeq = Number(deciding[1]);
  const folded = Number(deciding[2]);
  check(loadedSeq + folded === last, `loaded ${loadedSeq} + folded ${folded} is not the stream's ${last}`);
  let rssAuditMb = rss;
  if (loadedSeq > 0) {
    await waitForLog(second, /audit read model built/, 300_000);
    rssAuditMb = rssMb(pidOf(second));
    const metrics = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
    const heap = /^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1];
    const total = /^nodejs_heap_size_total_bytes (\S+)/m.exec(metrics)?.[1];
    if (heap !== undefined && total !== undefined)
      log(`with the audit model: V8 heap used ${fmt(Number(heap) / 2 ** 20)} MB of ${fmt(Number(total) / 2 ** 20)} MB`);
  }
  // the same restart from the snapshot before the newest (the newest removed): a tail to fold, as after
  // a crash up to IPAM_SNAPSHOT_EVERY_EVENTS after the last snapshot
  let tail: { ms: number; loadedSeq: number; folded: number } | null = null;
  const snapshots = await SnapshotStore.open(nc, { stream: STREAM, create: false });
  const kept = await snapshots.list();
  let third: Service | null = null;
  if (kept.length > 1) {
    await snapshots.remove(kept[0]);
    await kill9(second);
    t = performance.now();
    third = await startService(server.url, {
      IPAM_INSTANCE_ID: 'bench-third',
      IPAM_SNAPSHOT_EVERY_EVENTS: '0',
      IPAM_SNAPSHOT_EVERY_MS: '0',
    });
    await readyAt(third, last, 300_000);
    const ms = performance.now() - t;
    const d = await waitForLog(third, /"snapshotSeq":(\d+),"folded":(\d+)/, 10_000);
    tail = { ms, loadedSeq: Number(d[1]), folded: Number(d[2]) };
    log(
      `restart from the older snapshot at ${fmt(tail.loadedSeq)}: ready ${fmt(ms)} ms, folded ${fmt(tail.folded)}`,
    );
  }
  log(
    `restart: ready ${fmt(restartMs)} ms after kill -9; loaded snapshot at ${fmt(loadedSeq)}, folded ${fmt(folded)}; RSS ${fmt(rss)} MB (${fmt(rssAuditMb)} MB with the audit model) (load ${load()})`,
  );
  return {
    fullReplayMs,
    restartMs,
    loadedSeq,
    folded,
    rssMb: rss,
    rssAuditMb,
    pauseMs: Math.max(0, ...pauses),
    snapshotBytes: bytes,
    natsUrl: server.url,
    last,
    tail,
    stopService: async () => {
      await kill9(second);
      if (third !== null) await kill9(third);
    },
    async stop() {
      await kill9(second);
      if (third !== null) await kill9(third);
      await nc.close();
      await server.stop();
    },
  };
}

/** Leader and standby (another host) on a stream; kill -9 the leader; time to the standby's decision. */
async function failover(natsUrl: string, last: number): Promise<{ ms: number; otherHost: boolean }> {
  const otherHost = canUnshare();
  const leader = await startService(natsUrl, { IPAM_INSTANCE_ID: 'bench-leader' });
  await readyAt(leader, last, 60_000);
  await waitForLog(leader, /"msg":"deciding/, 30_000);
  const standby = await startService(
    natsUrl,
    { IPAM_INSTANCE_ID: 'bench-standby' },
    otherHost ? 'bench-other-host' : undefined,
  );
  await waitForLog(standby, /caught up with the stream/, 60_000);
  const nc = await connect({ servers: natsUrl });
  const js = jetstream(nc);
  try {
    const outcome = new Promise<number>((resolveOutcome) => {
      const sub = nc.subscribe('ipam.ip.>', {
        callback: (_e, m) => {
          const body = JSON.parse(new TextDecoder().decode(m.data)) as { loadBalancer?: string };
          if (body.loadBalancer === 'failover/after-kill') {
            sub.unsubscribe();
            resolveOutcome(performance.now());
          }
        },
      });
    });
    await new Promise((r) => setTimeout(r, 1500)); // the standby has seen the leader renew
    await kill9(leader);
    const killed = performance.now();
    await js.publish(
      'ipam.lb.requested',
      JSON.stringify({ metadata: { namespace: 'failover', name: 'after-kill' }, spec: {} }),
      {
        msgID: 'failover-after-kill',
      },
    );
    const decided = await Promise.race([
      outcome,
      new Promise<number>((_r, reject) =>
        setTimeout(() => reject(new Error('no decision within 30 s')), 30_000),
      ),
    ]);
    // the decision was the standby's (the leader was gone): it says so in its log
    await waitForLog(standby, /"msg":"deciding/, 10_000);
    return { ms: decided - killed, otherHost };
  } finally {
    await kill9(standby);
    await nc.close();
  }
}

async function main(): Promise<void> {
  log(`load average at start: ${load()}`);
  const small = await restartOn(SMALL);
  report({
    name: 'fullReplayMs10k',
    value: Math.round(small.fullReplayMs),
    unit: 'ms',
    baseline: true,
    note: `a first start reading the whole ${fmt(SMALL)}-event stream to /readyz`,
  });
  report({
    name: 'restartMs10k',
    value: Math.round(small.restartMs),
    unit: 'ms',
    note: `median of 3: kill -9 -> /readyz 200 of a new instance, ${fmt(SMALL)} events (snapshot at ${fmt(small.loadedSeq)}, ${fmt(small.folded)} folded); load ${load()}`,
  });
  await small.stopService();
  const fo = await failover(small.natsUrl, small.last);
  await small.stop();
  report({
    name: 'failoverMs',
    value: Math.round(fo.ms),
    unit: 'ms',
    target: { op: '<=', value: 3000 },
    note: `kill -9 of the leader -> the standby's outcome of an input published right after, standby ${fo.otherHost ? 'on another host name (unshare -u)' : 'on the same host (no unshare: not root)'}, lease TTL 2.5 s; load ${load()}`,
  });

  const big = await restartOn(BIG);
  report({
    name: 'fullReplayMs1M',
    value: Math.round(big.fullReplayMs),
    unit: 'ms',
    baseline: true,
    note: `a first start reading the whole ${fmt(BIG)}-event stream to /readyz (what every restart cost before snapshots)`,
  });
  report({
    name: 'restartMs1M',
    value: Math.round(big.restartMs),
    unit: 'ms',
    note: `median of 3: kill -9 -> /readyz 200, ${fmt(BIG)} events: snapshot at ${fmt(big.loadedSeq)} loaded, ${fmt(big.folded)} folded; load ${load()}`,
  });
  if (big.tail !== null)
    report({
      name: 'restartMs1MTail',
      value: Math.round(big.tail.ms),
      unit: 'ms',
      note: `the same from an older snapshot (the newest removed): ${fmt(big.tail.loadedSeq)} loaded, ${fmt(big.tail.folded)} folded; load ${load()}`,
    });
  report({
    name: 'restartGrowth',
    value: Math.round((big.restartMs / small.restartMs) * 100) / 100,
    unit: 'x',
    target: { op: '<=', value: 2 },
    note: 'restartMs1M / restartMs10k, same run',
  });
  report({
    name: 'rssMb1M',
    value: Math.round(big.rssMb),
    unit: 'MB',
    target: { op: '<=', value: 300 },
    note: `VmRSS of the restarted service at /readyz ready, ${fmt(BIG)} events`,
  });
  report({
    name: 'rssMb1MAudit',
    value: Math.round(big.rssAuditMb),
    unit: 'MB',
    note: 'the same once its audit read model of the stream before the snapshot is built',
  });
  report({
    name: 'snapshotPauseMs1M',
    value: Math.round(big.pauseMs * 10) / 10,
    unit: 'ms',
    note: `the longest synchronous step (exportState) of a snapshot while reading ${fmt(BIG)} events; ${fmt(big.snapshotBytes / 1e6, 1)} MB stored (gzip)`,
  });
  await big.stop();
  log(`load average at end: ${load()}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
