/**
 * Audit and replay benchmark over a real nats-server (started here on a free loopback port):
 *
 * - a log of 1,000,000 events is generated in memory with the domain (pools, requests, releases,
 *   re-requests, history, force-releases, rejections; 1-4 inputs, then their outcomes) and published
 *   straight into a fresh IPAM stream, pipelined, exactly as the service stores it: each input with a
 *   Nats-Msg-Id, each outcome body JSON.stringify(event.data) with causationSeq = the input's sequence
 *   and the service's own outcome msgId;
 * - replayEventsPerSec: the service is started on that stream as on a restart (its durable consumer
 *   created beforehand, having acknowledged everything); events per second from the process start
 *   until /readyz reports it caught up (position == the stream's last sequence). A reference, no target;
 * - auditQueryMs: median time of 200 `ipam.query.audit.address` requests (after 5 warm-up ones) for
 *   the addresses with the longest timelines (hundreds of holders each), each checked against the
 *   count of holders generated; auditQueryEmptyMs: the same for an address with no timeline;
 * - verifyEventsPerSec: `ipam replay --verify` as an operator runs it (bin/ipam.mjs, in a process of
 *   its own) over the whole stream: stream events per second of wall time from spawning the CLI until
 *   it exits (its start, connection and read included). It must print that all inputs matched;
 * - verifyPrefixEventsPerSec (a reference): verifyStream, what that command runs, in this process over
 *   the first VERIFY_EVENTS+ events: a shorter stream, where the start and the compiler's warm-up weigh
 *   more. Two more references show where its time goes: the same read alone, and verifyReplay over the
 *   same events held in memory.
 *
 * `node --expose-gc dist/bench/audit.bench.js [events] [verifyEvents]` runs it with other sizes.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers, nanos, NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  decide,
  evolve,
  holdingOf,
  initialState,
  type IpamCommand,
  type IpamState,
} from '../libs/ipam-domain/src/index.js';
import { verifyReplay } from '../libs/ipam-audit/src/index.js';
import { ensureIpamStream, EventStore, freePort, startNatsServer } from '../libs/jetstream/src/index.js';
import { OUTCOME_SUBJECTS, outcomeMsgId, type StoredEvent } from '../libs/ipam-contract/src/index.js';
import { DEFAULT_MAX_BODY_BYTES, serviceCodec, verifyStream } from '../apps/cli/src/commands/replay.js';
import { check, fmt, fullGc, log, median, prng, report } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const serviceMain = join(root, 'dist/apps/ipam/src/main.js');
const ipamBin = join(root, 'bin/ipam.mjs');

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const VERIFY_EVENTS = Number(process.argv[3] ?? 200_000);
const QUERIES = 200;
const WARM_UP = 5;
const STREAM = 'IPAM';
const CONSUMER = 'ipam-allocator'; // the service's default IPAM_CONSUMER
const CHURN_POOLS = 4;
const CHURN_NAMES = 90; // per churn pool of 61 addresses: some requests find it exhausted
const ACK_EVERY = 1000;
const ACKS_IN_FLIGHT = 6;

// ---------------------------------------------------------------------------------------------------
// The log

interface Message {
  subject: string;
  body: string;
  msgId: string;
}

interface Generated {
  messages: Message[];
  inputs: number;
  /** holders generated per churn address (a repeated request is not a new holder) */
  holders: Map<string, number>;
  /** sequences after which every input stored so far is answered */
  quiet: number[];
  outcomes: Record<string, number>;
}

function generate(count: number): Generated {
  const state: IpamState = initialState();
  const messages: Message[] = [];
  const holders = new Map<string, number>();
  const quiet: number[] = [];
  const outcomes: Record<string, number> = {};
  const rnd = prng(42);
  let inputs = 0;
  let pending: Array<{ seq: number; command: IpamCommand }> = [];

  const input = (subject: string, body: unknown, make: (seq: number) => IpamCommand) => {
    const seq = messages.length + 1;
    messages.push({ subject, body: JSON.stringify(body), msgId: `in-${seq}` });
    pending.push({ seq, command: make(seq) });
    inputs++;
  };
  const meta = (seq: number) => ({ seq, id: `in-${seq}` });
  const flush = () => {
    for (const { seq, command } of pending) {
      const key =
        command.type === 'RequestLoadBalancer'
          ? `${(command.data.loadBalancer as { metadata: { namespace: string } }).metadata.namespace}/${(command.data.loadBalancer as { metadata: { name: string } }).metadata.name}`
          : null;
      const repeat = key !== null && holdingOf(state, key) !== undefined;
      const [event] = decide(command, state);
      evolve(state, event);
      if (event.type === 'IPAllocated' && !repeat && event.data.ipPool.startsWith('churn-')) {
        holders.set(event.data.ip, (holders.get(event.data.ip) ?? 0) + 1);
      }
      const kind = `${event.type}${'code' in event.data ? `/${event.data.code}` : ''}${event.type === 'IPAllocated' && event.data.fromHistory ? '/history' : ''}`;
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      messages.push({
        subject: OUTCOME_SUBJECTS[event.type],
        body: JSON.stringify(event.data),
        msgId: outcomeMsgId(STREAM, seq),
      });
    }
    pending = [];
    quiet.push(messages.length);
  };
  const createPool = (
    name: string,
    ranges: unknown[],
    scope: unknown,
    priority = 0,
    description?: string,
  ) => {
    const pool = {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name },
      spec: { ...(description ? { description } : {}), ranges, selector: { priority, scope } },
    };
    return pool;
  };
  const lb = (namespace: string, name: string, spec: Record<string, string> = {}) => ({
    metadata: { namespace, name },
    spec,
  });
  const request = (namespace: string, name: string, spec: Record<string, string> = {}) => {
    const body = lb(namespace, name, spec);
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

  const churnPool = (k: number) =>
    createPool(`churn-${k}`, [{ subnet: `10.100.${k}.0/26` }], [{ namespace: `churn-${k}` }], k + 1);
  for (let k = 0; k < CHURN_POOLS; k++) {
    const pool = churnPool(k);
    input('ipam.pool.created', pool, (seq) => ({ type: 'CreatePool', data: { pool }, meta: meta(seq) }));
  }
  const global = createPool(
    'global',
    [{ subnet: '10.0.0.0/12' }, { subnet: 'fd00::/64' }],
    [{ project: '*', namespace: '*', guestCluster: '*' }],
  );
  input('ipam.pool.created', global, (seq) => ({
    type: 'CreatePool',
    data: { pool: global },
    meta: meta(seq),
  }));
  flush();

  let bulkNext = 0;
  const bulkHeld: number[] = [];
  const bulkReleased: number[] = [];
  const take = <T>(list: T[]): T | undefined => {
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
      if (r < 0.5) {
        // churn: small pools, many holders per address over time
        const k = Math.floor(rnd() * CHURN_POOLS);
        const ns = `churn-${k}`;
        const name = `lb-${Math.floor(rnd() * CHURN_NAMES)}`;
        // decide against the state as it will be when this input is answered: only flushed inputs count,
        // which is fine for choosing a workload (the outcome is whatever the domain decides)
        const holds = holdingOf(state, `${ns}/${name}`) !== undefined;
        const s = rnd();
        if (holds ? s < 0.8 : s < 0.08) release(ns, name);
        else request(ns, name);
      } else if (r < 0.9) {
        // bulk: new load balancers from the global pool, releases, and re-requests (history)
        const s = rnd();
        if (s < 0.6 || bulkHeld.length === 0) {
          const i = bulkNext++;
          request(`bulk-${i % 10}`, `lb-${i}`);
          bulkHeld.push(i);
        } else if (s < 0.9) {
          const i = take(bulkHeld)!;
          release(`bulk-${i % 10}`, `lb-${i}`);
          bulkReleased.push(i);
        } else {
          const i = take(bulkReleased);
          if (i === undefined) request('bulk-0', 'lb-0');
          else {
            request(`bulk-${i % 10}`, `lb-${i}`);
            bulkHeld.push(i);
          }
        }
      } else if (r < 0.95) {
        // operator force-release of a churn address (AddressNotAllocated when it is free)
        const k = Math.floor(rnd() * CHURN_POOLS);
        const body = { ip: `10.100.${k}.${2 + Math.floor(rnd() * 61)}` };
        input('ipam.ip.releaserequested', body, (seq) => ({
          type: 'ForceReleaseAddress',
          data: { body },
          meta: meta(seq),
        }));
      } else if (r < 0.98) {
        // rejections: an unknown pool, an address that is taken or the gateway
        if (rnd() < 0.5) request('misc', `lb-${Math.floor(rnd() * 1000)}`, { ipPool: 'no-such-pool' });
        else
          request(`churn-0`, `lb-x${Math.floor(rnd() * 1000)}`, {
            ip: `10.100.0.${1 + Math.floor(rnd() * 62)}`,
          });
      } else {
        // pool events: a description update (accepted), a conflicting re-create (PoolExists)
        const k = Math.floor(rnd() * CHURN_POOLS);
        const pool = churnPool(k);
        if (rnd() < 0.5) {
          const updated = { ...pool, spec: { ...pool.spec, description: `rev ${messages.length}` } };
          input('ipam.pool.updated', updated, (seq) => ({
            type: 'UpdatePool',
            data: { pool: updated },
            meta: meta(seq),
          }));
        } else {
          const other = createPool(
            `churn-${k}`,
            [{ subnet: `10.100.${k}.0/27` }],
            [{ namespace: `churn-${k}` }],
            k + 1,
          );
          input('ipam.pool.created', other, (seq) => ({
            type: 'CreatePool',
            data: { pool: other },
            meta: meta(seq),
          }));
        }
      }
    }
    flush();
  }
  return { messages, inputs, holders, quiet, outcomes };
}

// ---------------------------------------------------------------------------------------------------
// The service

interface ReadyBody {
  ready?: boolean;
  position?: number;
  streamLastSeq?: number | null;
}

async function readyz(port: number): Promise<ReadyBody | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    return (await r.json()) as ReadyBody;
  } catch {
    return null;
  }
}

async function waitCaughtUp(
  port: number,
  last: number,
  service: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let shown = 0;
  for (;;) {
    if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode}`);
    const body = await readyz(port);
    if (body?.ready === true && body.position === last) return;
    if (body?.position !== undefined && Date.now() - shown > 5000) {
      shown = Date.now();
      log(`service replay: position ${fmt(body.position)} of ${fmt(last)}`);
    }
    if (Date.now() > deadline)
      throw new Error(`the service did not catch up (last readyz: ${JSON.stringify(body)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** QUERIES audit queries (after WARM_UP), cycling through `ips`; each reply checked against `expected`. */
async function auditQueries(
  nc: NatsConnection,
  ips: string[],
  expected: Map<string, number>,
): Promise<{ medianMs: number; holdersPerQuery: number }> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const times: number[] = [];
  let holders = 0;
  for (let i = 0; i < WARM_UP + QUERIES; i++) {
    const ip = ips[i % ips.length];
    const q0 = performance.now();
    const reply = await nc.request('ipam.query.audit.address', encoder.encode(JSON.stringify({ ip })), {
      timeout: 10_000,
    });
    const body = JSON.parse(decoder.decode(reply.data)) as { ip?: string; holders?: unknown[] };
    const ms = performance.now() - q0;
    check(
      body.ip === ip && Array.isArray(body.holders),
      `audit reply for ${ip}: ${JSON.stringify(body).slice(0, 200)}`,
    );
    check(
      body.holders.length === expected.get(ip),
      `${ip}: ${body.holders.length} holders, generated ${expected.get(ip)}`,
    );
    if (i >= WARM_UP) {
      times.push(ms);
      holders += body.holders.length;
    }
  }
  return { medianMs: median(times), holdersPerQuery: holders / QUERIES };
}

// ---------------------------------------------------------------------------------------------------

/**
 * Publishes the log in order on one connection: plain publishes with a Nats-Msg-Id header, and every
 * ACK_EVERY-th message a JetStream publish whose PubAck must carry exactly its sequence. Messages are
 * stored in publish order, so that ack proves every message before it was stored once, in place; a
 * few acks in flight keep the server's ingest queue short.
 */
async function publishLog(nc: NatsConnection, messages: Message[]): Promise<number> {
  const js = jetstream(nc, { timeout: 60_000 });
  const t0 = performance.now();
  const inFlight: Array<{ seq: number; ack: Promise<{ seq: number; duplicate?: boolean }> }> = [];
  const settleOne = async () => {
    const { seq, ack } = inFlight.shift()!;
    const a = await ack;
    check(
      a.seq === seq && a.duplicate !== true,
      `message ${seq} stored at seq ${a.seq}${a.duplicate ? ' (duplicate)' : ''}`,
    );
    if (seq % 200_000 === 0) log(`published ${fmt(seq)}`);
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const seq = i + 1;
    if (seq % ACK_EVERY === 0 || seq === messages.length) {
      inFlight.push({
        seq,
        ack: js.publish(m.subject, m.body, { msgID: m.msgId, expect: { streamName: STREAM } }),
      });
      if (inFlight.length >= ACKS_IN_FLIGHT) await settleOne();
    } else {
      const h = headers();
      h.set('Nats-Msg-Id', m.msgId);
      nc.publish(m.subject, m.body, { headers: h });
    }
  }
  while (inFlight.length > 0) await settleOne();
  return (performance.now() - t0) / 1000;
}

/** Runs bin/ipam.mjs with `args`; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [ipamBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  log(`generating ${fmt(EVENTS)} events with the domain`);
  let t = performance.now();
  const g = generate(EVENTS);
  const genS = (performance.now() - t) / 1000;
  const total = g.messages.length;
  check(total === EVENTS, `generated ${total} events, wanted ${EVENTS}`);
  log(
    `generated ${fmt(total)} events (${fmt(g.inputs)} inputs) in ${fmt(genS, 1)} s: ` +
      Object.entries(g.outcomes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', '),
  );
  check(
    (g.outcomes['LBRejected/PoolExhausted'] ?? 0) > 0 && (g.outcomes['IPAllocated/history'] ?? 0) > 0,
    'the log has rejections and history',
  );

  const server = await startNatsServer({ port: 0 });
  let service: ChildProcess | null = null;
  const nc = await connect({ servers: server.url });
  try {
    await ensureIpamStream(await jetstreamManager(nc), { name: STREAM });
    log(`nats-server ${server.url}; publishing the log`);
    const pubS = await publishLog(nc, g.messages);
    const store = new EventStore(nc, STREAM, { timeoutMs: 30_000 });
    const last = await store.lastSeq();
    check(last === total, `the stream holds ${last} messages, wanted ${total}`);
    log(`published ${fmt(total)} events in ${fmt(pubS, 1)} s (${fmt(total / pubS)}/s)`);

    // The service restarts on a stream it wrote: its durable consumer has acknowledged everything
    // (created here as the service creates it, starting after the last message). Without it, a first
    // start would also deliver the whole stream once more through a new durable consumer (DeliverPolicy
    // All), acknowledging 1,000,000 messages after /readyz already says caught up.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(STREAM, {
      durable_name: CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: last + 1,
      ack_wait: nanos(60_000),
      max_ack_pending: 50_000,
    });
    const pendingForDurable = (await jsm.consumers.info(STREAM, CONSUMER)).num_pending;
    check(
      pendingForDurable === 0,
      `the durable consumer has ${pendingForDurable} messages to deliver, wanted none`,
    );

    // --- the service replays the stream
    const httpPort = await freePort();
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    t = performance.now();
    service = spawn(process.execPath, [...nodeArgs, serviceMain], {
      env: {
        ...process.env,
        NATS_URL: server.url,
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'warn',
        IPAM_STREAM: STREAM,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitCaughtUp(httpPort, last, service, 150_000);
    const replayS = (performance.now() - t) / 1000;
    check((await store.lastSeq()) === total, 'the service published nothing new: every input was answered');
    log(`service caught up with ${fmt(total)} events in ${fmt(replayS, 1)} s`);
    report({
      name: 'replayEventsPerSec',
      value: Math.round(total / replayS),
      unit: 'event/s',
      baseline: true,
      note: `service start -> /readyz caught up, ${fmt(total)} events`,
    });

    // --- audit queries for the addresses with the longest timelines, once /readyz says caught up
    const ips = [...g.holders.entries()].sort((a, b) => b[1] - a[1]).map(([ip]) => ip);
    check(ips.length >= 100, `only ${ips.length} churn addresses`);
    const ready = await auditQueries(nc, ips, g.holders);
    log(
      `audit: median ${fmt(ready.medianMs, 2)} ms, ${fmt(ready.holdersPerQuery)} holders per address on average`,
    );
    report({
      name: 'auditQueryMs',
      value: Number(ready.medianMs.toFixed(2)),
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `median of ${QUERIES} ipam.query.audit.address after /readyz, ${fmt(total)} events, ~${fmt(ready.holdersPerQuery)} holders each`,
    });

    // the request path alone: an address with no timeline
    const empty = await auditQueries(nc, ['192.0.2.1'], new Map([['192.0.2.1', 0]]));
    log(`audit: an empty timeline ${fmt(empty.medianMs, 2)} ms`);
    report({
      name: 'auditQueryEmptyMs',
      value: Number(empty.medianMs.toFixed(2)),
      unit: 'ms',
      baseline: true,
      note: 'an address with no timeline: the request path alone',
    });
    service.kill('SIGTERM');
    await new Promise((r) => service!.once('exit', r));
    service = null;

    // --- `ipam replay --verify` as an operator runs it: the CLI in a process of its own, over the
    // whole stream; wall time from spawning it until it exits, its start and connection included
    const cliInputs = g.inputs;
    log(`verify: ipam replay --verify over ${fmt(total)} events (the CLI in its own process)`);
    t = performance.now();
    const cli = await runCli(['replay', '--verify', '--server', server.url, '--stream', STREAM]);
    const cliS = (performance.now() - t) / 1000;
    check(
      cli.code === 0 &&
        cli.stdout.trim() === `verified: all ${cliInputs} inputs decided the same way (0 unanswered)`,
      `ipam replay --verify exited ${cli.code}: ${cli.stdout.trim().slice(0, 500)} ${cli.stderr.slice(-500)}`,
    );
    log(`verify: ${cli.stdout.trim()} in ${fmt(cliS, 2)} s`);
    report({
      name: 'verifyEventsPerSec',
      value: Math.round(total / cliS),
      unit: 'event/s',
      target: { op: '>=', value: 100_000 },
      note: `ipam replay --verify (bin/ipam.mjs, own process, start included) over all ${fmt(total)} stream events, all ${fmt(cliInputs)} inputs matched`,
    });

    // --- the same verification in this process over the first VERIFY_EVENTS+ events: a shorter
    // stream, where the start and the warm-up of the compiler weigh more
    const upTo = g.quiet.find((q) => q >= Math.min(VERIFY_EVENTS, total)) ?? total;
    const expectedInputs = g.messages.slice(0, upTo).filter((m) => m.msgId.startsWith('in-')).length;
    g.messages.length = 0; // the in-memory log is not needed any more: no 1M objects to trace during verify
    fullGc();
    log(`verify: ${fmt(upTo)} events read from the stream`);
    let lastLogged = 0;
    const codec = serviceCodec(DEFAULT_MAX_BODY_BYTES);
    // what `ipam replay --verify` runs (apps/cli/src/commands/replay.ts)
    t = performance.now();
    const result = await verifyStream(store, upTo, codec, (seq) => {
      if (Math.floor(seq / 100_000) > Math.floor(lastLogged / 100_000)) log(`verify: seq ${fmt(seq)}`);
      lastLogged = seq;
    });
    const verifyS = (performance.now() - t) / 1000;
    check(
      result.inputs === expectedInputs &&
        result.matched === expectedInputs &&
        result.divergences === 0 &&
        result.unanswered.length === 0,
      `verify: ${JSON.stringify({ ...result, unanswered: result.unanswered.slice(0, 5) })}`,
    );
    log(`verify: all ${fmt(result.matched)} inputs matched in ${fmt(verifyS, 2)} s`);
    report({
      name: 'verifyPrefixEventsPerSec',
      value: Math.round(upTo / verifyS),
      unit: 'event/s',
      baseline: true,
      note: `verifyStream in this process over the first ${fmt(upTo)} stream events, all ${fmt(result.matched)} inputs matched`,
    });

    // Where the time goes: the same read with no verification (keeping the events), then verifyReplay
    // over those events in memory (no NATS).
    const kept: StoredEvent[] = [];
    t = performance.now();
    for await (const batch of store.readBatches({ fromSeq: 1, toSeq: upTo }))
      for (const e of batch) kept.push(e);
    const readS = (performance.now() - t) / 1000;
    check(kept.length === upTo, `read ${kept.length} events, wanted ${upTo}`);
    report({
      name: 'verifyReadOnlyEventsPerSec',
      value: Math.round(upTo / readS),
      unit: 'event/s',
      baseline: true,
      note: 'the same read (EventStore.readBatches), nothing verified',
    });
    t = performance.now();
    const inMemory = await verifyReplay(() => kept, codec);
    const memS = (performance.now() - t) / 1000;
    check(
      inMemory.matched === expectedInputs && inMemory.divergences === 0,
      'in-memory verify matched everything',
    );
    report({
      name: 'verifyInMemoryEventsPerSec',
      value: Math.round(upTo / memS),
      unit: 'event/s',
      baseline: true,
      note: 'verifyReplay over the same events held in memory (no NATS)',
    });
    log(`verify: reading alone ${fmt(readS, 2)} s, verifying in memory ${fmt(memS, 2)} s`);
  } finally {
    if (service) {
      service.kill('SIGTERM');
      await new Promise((r) => service!.once('exit', r));
    }
    await nc.close();
    await server.stop();
    rmSync(server.storeDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
