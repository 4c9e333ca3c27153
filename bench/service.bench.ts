/**
 * End-to-end benchmark of the service over a real nats-server (started here on a free loopback port):
 *
 * - serviceRate: LBRequested answered per second, 20,000 published pipelined over 4 pools, measured from
 *   the first publish to the last ipam.ip.allocated seen;
 * - rawLoopRate: the same load through a minimal loop with no logic, on the same server in the same
 *   run: consume (durable, explicit ack) -> publish the answer into the same stream with a Nats-Msg-Id
 *   -> ack once its PubAck arrives. Publishes are pipelined the same way the service pipelines them;
 *   rawSerialLoopRate is the same loop awaiting each PubAck before the next message (a reference);
 * - ratio = serviceRate / rawLoopRate;
 * - p50ms / p99ms: publish -> outcome seen, at a steady 1,000 requests per second for 5 seconds;
 *   rawP99ms: the raw loop's p99 under the same steady load, from the same generator, in the same run
 *   (target: p99ms <= 2 x rawP99ms);
 * - httpP50ms / httpP99ms: PUT /v1/loadbalancers/{ns}/{name} -> its 200 answer read to the end, at a
 *   steady 500 requests per second for 5 seconds over loopback keep-alive connections, after 200
 *   unmeasured requests that warm the HTTP path up (the NATS path is warm from the throughput phase);
 *   httpP99Ratio = httpP99ms / p99ms (target <= 3);
 * - *Stall*Ms: the load generator's own event-loop stalls in each phase (see bench/load-generator.ts),
 *   so that a latency can be read against the noise of the process that measured it;
 * - garbageKbPerRequest: what the service allocates on its V8 heap per LBRequested in the serviceRate
 *   phase, from a mark before the first publish to one after the service has caught up with the stream
 *   (its own outcomes read); httpGarbageKbPerRequest: the same for the steady HTTP phase, per PUT. Read
 *   from the service's `--trace-gc-nvp` lines (the sum of their `allocated=`) between two marks, each a
 *   scavenge forced in the service on SIGUSR2 by a preloaded hook (see bench/gc-trace.ts). They include
 *   the service's idle allocation over the phase (its rate is in the note, measured while the raw loop
 *   runs and the service has nothing to do) and not its off-heap buffers.
 *
 * Every steady phase runs through bench/load-generator.ts: latency from each request's own timestamp
 * (taken just before its publish or http.request) to its outcome's arrival. The service and the raw
 * loop each run in their own child process, as they would in production.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamClient } from '@nats-io/jetstream';
import { freePort, startNatsServer } from '../libs/jetstream/src/index.js';
import { GcTrace, gcTraceArgs } from './gc-trace.js';
import { check, fmt, log, report } from './harness.js';
import { describe, Stalls, SteadyLoad, SteadyResult, watchStalls } from './load-generator.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const serviceMain = join(root, 'dist/apps/ipam/src/main.js');

const LOAD = 20_000;
const POOLS = 4;
const STEADY_RATE = 1000;
const STEADY_SECONDS = 5;
const HTTP_RATE = 500;
const HTTP_SECONDS = 5;
const HTTP_WARMUP = 200;

function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((res, rej) => {
    const tick = () => {
      if (cond()) return res();
      if (Date.now() > deadline) return rej(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** Waits until the service has read everything the stream holds (its own outcomes included). */
async function caughtUp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { lag?: number };
    if (r.lag === 0) return;
    if (Date.now() > deadline) throw new Error('the service did not catch up with the stream');
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function httpReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) {
        const body = (await r.json()) as { live?: boolean };
        if (body.live) return;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lbBody(i: number) {
  return JSON.stringify({ metadata: { namespace: `ns${i % POOLS}`, name: `lb-${i}` } });
}

/** Publishes `count` LBRequested without waiting for each PubAck (a bounded window keeps memory flat). */
async function publishPipelined(
  js: JetStreamClient,
  subject: string,
  count: number,
  tag: string,
): Promise<void> {
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    window.push(js.publish(subject, lbBody(i), { msgID: `${tag}-${i}` }));
    if (window.length >= 2000) await Promise.all(window.splice(0, window.length));
  }
  await Promise.all(window);
}

async function setUpPools(nc: NatsConnection, js: JetStreamClient): Promise<void> {
  let accepted = 0;
  const sub = nc.subscribe('ipam.pool.accepted', { callback: () => void accepted++ });
  for (let p = 0; p < POOLS; p++) {
    await js.publish(
      'ipam.pool.created',
      JSON.stringify({
        metadata: { name: `pool-${p}` },
        spec: { ranges: [{ subnet: `10.${p}.0.0/16` }], selector: { scope: [{ namespace: `ns${p}` }] } },
      }),
      { msgID: `pool-${p}` },
    );
  }
  await waitFor(() => accepted === POOLS, 30_000, 'the pools to be accepted');
  sub.unsubscribe();
}

interface Rate {
  rate: number;
  stalls: Stalls;
}

/** `LOAD` requests pipelined to `prefix`.lb.requested; answered per second until the last outcome. */
async function pipelinedRate(
  nc: NatsConnection,
  js: JetStreamClient,
  prefix: string,
  tag: string,
): Promise<Rate> {
  let seen = 0;
  const sub = nc.subscribe(`${prefix}.ip.allocated`, { callback: () => void seen++ });
  await nc.flush();
  const stalls = watchStalls();
  const t0 = performance.now();
  await publishPipelined(js, `${prefix}.lb.requested`, LOAD, tag);
  await waitFor(() => seen >= LOAD, 120_000, `${prefix} to answer the load`);
  const seconds = (performance.now() - t0) / 1000;
  sub.unsubscribe();
  return { rate: LOAD / seconds, stalls: stalls.stop() };
}

/**
 * The steady NATS load, the same for the service (prefix `ipam`) and the raw loop (`RAW`): request i is
 * LBRequested `steady-i` published with msg id `steady-i`; its outcome names it by causationId (the
 * service's IPAllocated) or by metadata.name (the raw loop answers with the input's own body).
 */
async function steadyLatency(nc: NatsConnection, js: JetStreamClient, prefix: string): Promise<SteadyResult> {
  const total = STEADY_RATE * STEADY_SECONDS;
  const load = new SteadyLoad({
    ratePerSec: STEADY_RATE,
    count: total,
    timeoutMs: STEADY_SECONDS * 1000 + 60_000,
  });
  const decoder = new TextDecoder();
  const sub = nc.subscribe(`${prefix}.ip.allocated`, {
    callback: (_e, m) => {
      const body = JSON.parse(decoder.decode(m.data)) as {
        causationId?: string;
        metadata?: { name?: string };
      };
      const id = body.causationId ?? body.metadata?.name;
      if (id?.startsWith('steady-')) load.arrived(Number(id.slice('steady-'.length)));
    },
  });
  await nc.flush();
  const subject = `${prefix}.lb.requested`;
  const result = await load.run((i) => {
    const id = `steady-${i}`;
    js.publish(subject, JSON.stringify({ metadata: { namespace: `ns${i % POOLS}`, name: id } }), {
      msgID: id,
    }).catch((e: Error) => load.failed(i, e.message));
  });
  sub.unsubscribe();
  return result;
}

/** HTTP PUT /v1/loadbalancers/{ns}/{name} at a steady rate; the outcome is the 200 answer read to its end. */
async function httpLatency(port: number, count: number, name: string): Promise<SteadyResult> {
  // connections kept open and reused; beyond 1024 at once a request waits for one, and that wait counts
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const load = new SteadyLoad({
    ratePerSec: HTTP_RATE,
    count,
    timeoutMs: (count / HTTP_RATE) * 1000 + 60_000,
  });
  const body = '{}';
  try {
    return await load.run((i) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/v1/loadbalancers/ns${i % POOLS}/${name}-${i}`,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.once('end', () =>
            res.statusCode === 200 ? load.arrived(i) : load.failed(i, `HTTP ${res.statusCode}`),
          );
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', (e) => load.failed(i, e.message));
      req.end(body);
    });
  } finally {
    agent.destroy();
  }
}

/** The raw loop, as a child process script, so it runs like the service does. */
const RAW_LOOP = `
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
const [url, stream, mode] = process.argv.slice(2);
const nc = await connect({ servers: url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: stream, subjects: [stream + '.>'] });
await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 50000 });
const c = await js.consumers.get(stream, 'raw');
const msgs = await c.consume({ max_messages: 1000 });
process.stdout.write('ready\\n');
for await (const m of msgs) {
  if (m.subject !== stream + '.lb.requested') { m.ack(); continue; }
  const p = js.publish(stream + '.ip.allocated', m.data, { msgID: 'raw-' + m.seq });
  if (mode === 'serial') { await p; m.ack(); } else { p.then(() => m.ack()); }
}
`;

interface RawRun extends Rate {
  /** the steady 1,000/s phase, for the pipelined loop only */
  steady: SteadyResult | null;
}

/** Waits until the raw loop's consumer has nothing pending or unacknowledged (a quiet start). */
async function rawSettled(nc: NatsConnection, stream: string, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.consumers.info(stream, 'raw');
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    if (Date.now() > deadline) throw new Error('the raw loop did not settle');
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function rawRun(
  nc: NatsConnection,
  js: JetStreamClient,
  url: string,
  mode: 'pipelined' | 'serial',
): Promise<RawRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ipam-raw-'));
  const script = join(root, `bench-raw-loop-${process.pid}.mjs`);
  writeFileSync(script, RAW_LOOP);
  const stream = mode === 'serial' ? 'RAWSERIAL' : 'RAW';
  const child = spawn(process.execPath, [script, url, stream, mode], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((res, rej) => {
      child.stdout!.once('data', () => res());
      child.once('exit', (code) => rej(new Error(`raw loop exited with ${code}`)));
    });
    const { rate, stalls } = await pipelinedRate(nc, js, stream, `${stream}-load`);
    let steady: SteadyResult | null = null;
    if (mode === 'pipelined') {
      await rawSettled(nc, stream, 60_000); // steady state: nothing left over from the previous phase
      log(`raw loop: steady ${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
      steady = await steadyLatency(nc, js, stream);
    }
    return { rate, stalls, steady };
  } finally {
    child.kill('SIGKILL');
    rmSync(script, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (v: number) => Number(v.toFixed(2));

/** The generator's stalls in a phase, as two figures. */
function reportStalls(prefix: string, stalls: Stalls, phase: string): void {
  report({
    name: `${prefix}P99Ms`,
    value: ms(stalls.p99Ms),
    unit: 'ms',
    note: `load generator's event-loop stall p99, ${phase}`,
  });
  report({
    name: `${prefix}MaxMs`,
    value: ms(stalls.maxMs),
    unit: 'ms',
    note: `load generator's event-loop stall max, ${phase}`,
  });
}

/** The steady phase's results must be (nearly) complete to mean anything. */
function checkSteady(r: SteadyResult, rate: number, what: string): void {
  check(
    r.answered >= r.sent * 0.99 && r.sent > 0,
    `${what}: only ${r.answered} of ${r.sent} answered (${describe(r, rate)})`,
  );
}

/** KB (1,024 bytes) per request, two decimals. */
const kbPer = (bytes: number, requests: number) => Number((bytes / requests / 1024).toFixed(2));

async function main(): Promise<void> {
  const server = await startNatsServer({ port: 0 });
  let service: ChildProcess | null = null;
  let gc: GcTrace | null = null;
  const nc = await connect({ servers: server.url });
  const tmp = mkdtempSync(join(tmpdir(), 'ipam-service-bench-'));
  try {
    const js = jetstream(nc);
    const httpPort = await freePort();
    log(`nats-server ${server.url}; starting the service`);
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    // BENCH_SERVICE_LOG=<file>: the service's stdout there (its warnings, its --trace-gc-nvp lines, what
    // BENCH_SERVICE_NODE_ARGS such as --trace-gc prints), else in a temporary file (read for the GC
    // figures); BENCH_SERVICE_LOG_LEVEL: another log level (info logs each decision)
    const stdoutFile = process.env.BENCH_SERVICE_LOG || join(tmp, 'service.stdout');
    service = spawn(process.execPath, [...gcTraceArgs(tmp), ...nodeArgs, serviceMain], {
      env: {
        ...process.env,
        NATS_URL: server.url,
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: process.env.BENCH_SERVICE_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', openSync(stdoutFile, 'w'), 'inherit'],
    });
    gc = new GcTrace(stdoutFile);
    await httpReady(httpPort, 30_000);
    await setUpPools(nc, js);

    // the service idles while the raw loop runs: its allocation then is the background of the others
    const idleFrom = await gc.mark(service);
    const idleT0 = performance.now();
    log(`raw loop (pipelined): ${fmt(LOAD)} requests`);
    const raw = await rawRun(nc, js, server.url, 'pipelined');
    log(`raw loop (serial): ${fmt(LOAD)} requests`);
    const rawSerial = await rawRun(nc, js, server.url, 'serial');
    log(`service: ${fmt(LOAD)} requests over ${POOLS} pools`);
    const svcFrom = await gc.mark(service);
    const idleSeconds = (performance.now() - idleT0) / 1000;
    const idle = gc.between(idleFrom, svcFrom); // here: an unreadable trace fails the run before the load
    const svc = await pipelinedRate(nc, js, 'ipam', 'load');
    await caughtUp(httpPort, 120_000); // steady state: nothing left over from the previous phase
    const svcTo = await gc.mark(service);
    log(`service: steady ${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
    const steady = await steadyLatency(nc, js, 'ipam');
    await caughtUp(httpPort, 120_000);
    log(`HTTP: ${HTTP_WARMUP} warm-up requests, then steady ${HTTP_RATE}/s for ${HTTP_SECONDS} s`);
    await httpLatency(httpPort, HTTP_WARMUP, 'warm');
    await caughtUp(httpPort, 120_000);
    const httpFrom = await gc.mark(service);
    const http = await httpLatency(httpPort, HTTP_RATE * HTTP_SECONDS, 'http');
    await caughtUp(httpPort, 120_000);
    const httpTo = await gc.mark(service);
    const svcGarbage = gc.between(svcFrom, svcTo);
    const httpGarbage = gc.between(httpFrom, httpTo);
    const idleNote = `service idle: ${fmt(idle.bytes / 1024 / idleSeconds)} KB/s`;
    const rate = svc.rate;
    const rawSteady = raw.steady!;
    check(rate > 0 && raw.rate > 0, 'rates must be positive');
    checkSteady(steady, STEADY_RATE, 'service steady');
    checkSteady(rawSteady, STEADY_RATE, 'raw loop steady');
    checkSteady(http, HTTP_RATE, 'HTTP steady');

    report({
      name: 'rawLoopRate',
      value: Math.round(raw.rate),
      unit: 'msg/s',
      baseline: true,
      note: 'consume -> publish (pipelined PubAcks) -> ack, no logic',
    });
    reportStalls('rawLoopRateStall', raw.stalls, 'rawLoopRate');
    report({
      name: 'rawSerialLoopRate',
      value: Math.round(rawSerial.rate),
      unit: 'msg/s',
      baseline: true,
      note: 'the same, awaiting each PubAck',
    });
    report({
      name: 'serviceRate',
      value: Math.round(rate),
      unit: 'req/s',
      note: `${fmt(LOAD)} LBRequested pipelined over ${POOLS} pools`,
    });
    reportStalls('serviceRateStall', svc.stalls, 'serviceRate');
    report({
      name: 'garbageKbPerRequest',
      value: kbPer(svcGarbage.bytes, LOAD),
      unit: 'KB',
      note:
        `service's V8 heap allocation per LBRequested, serviceRate phase until caught up: ` +
        `${fmt(svcGarbage.bytes / 2 ** 20, 1)} MB over ${svcGarbage.collections} GCs (--trace-gc-nvp ` +
        `allocated=, between forced scavenges); ${idleNote}`,
    });
    report({
      name: 'ratio',
      value: Number((rate / raw.rate).toFixed(3)),
      unit: 'x',
      target: { op: '>=', value: 1.0 },
      note: 'serviceRate / rawLoopRate',
    });
    report({
      name: 'rawP99ms',
      value: ms(rawSteady.p99),
      unit: 'ms',
      baseline: true,
      note: `raw loop, publish -> outcome, p50 ${rawSteady.p50.toFixed(2)} ms; ${describe(rawSteady, STEADY_RATE)}`,
    });
    reportStalls('rawLoadStall', rawSteady.stalls, `raw loop at ${STEADY_RATE}/s`);
    report({
      name: 'p50ms',
      value: ms(steady.p50),
      unit: 'ms',
      note: `publish -> outcome at ${STEADY_RATE}/s`,
    });
    report({
      name: 'p99ms',
      value: ms(steady.p99),
      unit: 'ms',
      target: [
        { op: '<=', value: 2, of: 'rawP99ms' },
        { op: '<=', value: 10 },
      ],
      note: `publish -> outcome (<= 10 in a quiet run); max ${steady.max.toFixed(1)} ms; ${describe(steady, STEADY_RATE)}`,
    });
    reportStalls('loadStall', steady.stalls, `service at ${STEADY_RATE}/s`);
    report({
      name: 'httpP50ms',
      value: ms(http.p50),
      unit: 'ms',
      note: `PUT /v1/loadbalancers/{ns}/{name} -> 200 at ${HTTP_RATE}/s`,
    });
    report({
      name: 'httpP99ms',
      value: ms(http.p99),
      unit: 'ms',
      target: { op: '<=', value: 3, of: 'p99ms' },
      note: `max ${http.max.toFixed(1)} ms; ${describe(http, HTTP_RATE)}`,
    });
    report({
      name: 'httpP99Ratio',
      value: Number((http.p99 / steady.p99).toFixed(3)),
      unit: 'x',
      note: 'httpP99ms / p99ms (target <= 3, judged on httpP99ms)',
    });
    reportStalls('httpLoadStall', http.stalls, `HTTP at ${HTTP_RATE}/s`);
    report({
      name: 'httpGarbageKbPerRequest',
      value: kbPer(httpGarbage.bytes, http.sent),
      unit: 'KB',
      note:
        `the same per PUT, steady HTTP phase until caught up: ${fmt(httpGarbage.bytes / 2 ** 20, 1)} MB ` +
        `over ${httpGarbage.collections} GCs for ${fmt(http.sent)} requests in ${HTTP_SECONDS} s; ${idleNote}`,
    });
  } finally {
    service?.kill('SIGTERM');
    gc?.close();
    await nc.close();
    await server.stop();
    rmSync(server.storeDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
