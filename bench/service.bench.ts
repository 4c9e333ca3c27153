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
 * - p50ms / p99ms: publish -> outcome seen, at a steady 1,000 requests per second for 5 seconds.
 *
 * The service and the raw loop each run in their own child process, as they would in production.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamClient } from '@nats-io/jetstream';
import { freePort, startNatsServer } from '../libs/jetstream/src/index.js';
import { check, fmt, log, median, report } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const serviceMain = join(root, 'dist/apps/ipam/src/main.js');

const LOAD = 20_000;
const POOLS = 4;
const STEADY_RATE = 1000;
const STEADY_SECONDS = 5;

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

async function serviceRate(nc: NatsConnection, js: JetStreamClient): Promise<number> {
  let seen = 0;
  const sub = nc.subscribe('ipam.ip.allocated', { callback: () => void seen++ });
  await nc.flush();
  const t0 = performance.now();
  await publishPipelined(js, 'ipam.lb.requested', LOAD, 'load');
  await waitFor(() => seen >= LOAD, 120_000, 'the service to answer the load');
  const seconds = (performance.now() - t0) / 1000;
  sub.unsubscribe();
  return LOAD / seconds;
}

async function steadyLatency(nc: NatsConnection, js: JetStreamClient): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const decoder = new TextDecoder();
  const sub = nc.subscribe('ipam.ip.allocated', {
    callback: (_e, m) => {
      const id = (JSON.parse(decoder.decode(m.data)) as { causationId?: string }).causationId;
      const t = id ? sentAt.get(id) : undefined;
      if (t !== undefined) latencies.push(performance.now() - t);
    },
  });
  await nc.flush();
  const total = STEADY_RATE * STEADY_SECONDS;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    // keep to the schedule: request i goes out at t0 + i ms
    const due = t0 + (i * 1000) / STEADY_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const id = `steady-${i}`;
    sentAt.set(id, performance.now());
    void js.publish(
      'ipam.lb.requested',
      JSON.stringify({ metadata: { namespace: `ns${i % POOLS}`, name: `steady-${i}` } }),
      {
        msgID: id,
      },
    );
  }
  await waitFor(() => latencies.length >= total, 60_000, 'the steady load to be answered');
  sub.unsubscribe();
  latencies.sort((a, b) => a - b);
  return { p50: median(latencies), p99: latencies[Math.floor(latencies.length * 0.99)] };
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

async function rawRate(
  nc: NatsConnection,
  js: JetStreamClient,
  url: string,
  mode: 'pipelined' | 'serial',
): Promise<number> {
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
    let seen = 0;
    const sub = nc.subscribe(`${stream}.ip.allocated`, { callback: () => void seen++ });
    await nc.flush();
    const t0 = performance.now();
    await publishPipelined(js, `${stream}.lb.requested`, LOAD, `${stream}-load`);
    await waitFor(() => seen >= LOAD, 120_000, 'the raw loop to answer the load');
    const seconds = (performance.now() - t0) / 1000;
    sub.unsubscribe();
    return LOAD / seconds;
  } finally {
    child.kill('SIGKILL');
    rmSync(script, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const server = await startNatsServer({ port: 0 });
  let service: ChildProcess | null = null;
  const nc = await connect({ servers: server.url });
  try {
    const js = jetstream(nc);
    const httpPort = await freePort();
    log(`nats-server ${server.url}; starting the service`);
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    service = spawn(process.execPath, [...nodeArgs, serviceMain], {
      env: { ...process.env, NATS_URL: server.url, HTTP_PORT: String(httpPort), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await httpReady(httpPort, 30_000);
    await setUpPools(nc, js);

    log(`raw loop (pipelined): ${fmt(LOAD)} requests`);
    const raw = await rawRate(nc, js, server.url, 'pipelined');
    log(`raw loop (serial): ${fmt(LOAD)} requests`);
    const rawSerial = await rawRate(nc, js, server.url, 'serial');
    log(`service: ${fmt(LOAD)} requests over ${POOLS} pools`);
    const rate = await serviceRate(nc, js);
    await caughtUp(httpPort, 120_000); // steady state: nothing left over from the previous phase
    log(`steady ${STEADY_RATE}/s for ${STEADY_SECONDS} s`);
    const { p50, p99 } = await steadyLatency(nc, js);
    check(rate > 0 && raw > 0, 'rates must be positive');

    report({
      name: 'rawLoopRate',
      value: Math.round(raw),
      unit: 'msg/s',
      baseline: true,
      note: 'consume -> publish (pipelined PubAcks) -> ack, no logic',
    });
    report({
      name: 'rawSerialLoopRate',
      value: Math.round(rawSerial),
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
    report({
      name: 'ratio',
      value: Number((rate / raw).toFixed(3)),
      unit: 'x',
      target: { op: '>=', value: 0.6 },
      note: 'serviceRate / rawLoopRate',
    });
    report({
      name: 'p50ms',
      value: Number(p50.toFixed(2)),
      unit: 'ms',
      note: `publish -> outcome at ${STEADY_RATE}/s`,
    });
    report({
      name: 'p99ms',
      value: Number(p99.toFixed(2)),
      unit: 'ms',
      target: { op: '<=', value: 20 },
      note: `publish -> outcome at ${STEADY_RATE}/s`,
    });
  } finally {
    service?.kill('SIGTERM');
    await nc.close();
    await server.stop();
    rmSync(server.storeDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
