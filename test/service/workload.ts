/**
 * Random but reproducible workloads for the crash and failover tests: pools, then LBRequested /
 * LBDeleted of a few dozen load balancers (repeats, deletes of non-holders, exhaustion of a small pool,
 * the odd unreadable body), and an oracle run that replays the same inputs on a fresh, uninterrupted
 * service to compare every decision.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { startTestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { sleep, StreamAudit, type StreamRecord } from '../support/stream-audit.js';

/** A failing run can be repeated with the seed it prints. */
export { prng as seededRandom } from '../support/prng.js';
import { lbRef, loadBalancer } from './doc-examples.js';

export interface Input {
  subject: string;
  data: Uint8Array;
  id: string;
}

const enc = new TextEncoder();

export function input(subject: string, body: unknown, id: string): Input {
  return { subject, data: body instanceof Uint8Array ? body : enc.encode(JSON.stringify(body)), id };
}

/** A global pool of 253 addresses and a pool of 5 for namespace "tiny" (so that it runs out). */
export function workloadPools(idPrefix: string): Input[] {
  return [
    input(
      'ipam.pool.created',
      {
        apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
        kind: 'IPPool',
        metadata: { name: 'global' },
        spec: {
          ranges: [{ subnet: '10.10.0.0/24' }],
          selector: { scope: [{ project: '*', namespace: '*', guestCluster: '*' }] },
        },
      },
      `${idPrefix}-pool-global`,
    ),
    input(
      'ipam.pool.created',
      {
        apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
        kind: 'IPPool',
        metadata: { name: 'tiny' },
        spec: { ranges: [{ subnet: '10.20.0.0/29' }], selector: { scope: [{ namespace: 'tiny' }] } },
      },
      `${idPrefix}-pool-tiny`,
    ),
  ];
}

/**
 * `count` LB inputs over `lbCount` load balancers (the last 8 in namespace "tiny"): about 60 %
 * LBRequested, 35 % LBDeleted, 5 % unreadable bodies.
 */
export function randomLbInputs(rand: () => number, count: number, idPrefix: string, lbCount = 40): Input[] {
  const out: Input[] = [];
  for (let i = 0; i < count; i++) {
    const k = Math.floor(rand() * lbCount);
    const [ns, name] = k >= lbCount - 8 ? ['tiny', `t-${k}`] : ['work', `lb-${k}`];
    const r = rand();
    const id = `${idPrefix}-${i}`;
    if (r < 0.6) out.push(input('ipam.lb.requested', loadBalancer(ns, name), id));
    else if (r < 0.95) out.push(input('ipam.lb.deleted', lbRef(ns, name), id));
    else
      out.push(
        input(rand() < 0.5 ? 'ipam.lb.requested' : 'ipam.pool.updated', enc.encode(`{"broken": ${i}`), id),
      );
  }
  return out;
}

/**
 * Publishes `inputs` in order (each waits for its PubAck), sleeping `paceMs` after each, and records
 * each stored sequence in `seqs` as it goes. Returns the sequences.
 *
 * With `retryMs`, a publish that fails (the server is down) is retried with the same Nats-Msg-Id for up
 * to that long, as a well-behaved upstream publisher would; a retry the server had already stored is
 * acknowledged as a duplicate with the original sequence.
 */
export async function publishAll(
  js: JetStreamClient,
  inputs: Input[],
  {
    paceMs = 0,
    seqs = [] as number[],
    retryMs = 0,
  }: { paceMs?: number; seqs?: number[]; retryMs?: number } = {},
): Promise<number[]> {
  for (const i of inputs) {
    const deadline = Date.now() + retryMs;
    let attempt = 0;
    for (;;) {
      try {
        const pa = await js.publish(i.subject, i.data, { msgID: i.id, timeout: retryMs > 0 ? 1000 : 10_000 });
        if (pa.duplicate && attempt === 0) throw new Error(`input ${i.id} was stored before (duplicate)`);
        seqs.push(pa.seq);
        break;
      } catch (e) {
        if (attempt === 0 && String(e).includes('was stored before')) throw e;
        if (Date.now() > deadline) throw e;
        attempt++;
        await sleep(100);
      }
    }
    if (paceMs > 0) await sleep(paceMs);
  }
  return seqs;
}

/** The decision of one input, without what depends on where it was stored (causationSeq). */
export function decision(subject: string, body: Record<string, unknown>): string {
  const rest = { ...body };
  delete rest.causationSeq;
  return `${subject} ${JSON.stringify(canonical(rest))}`;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
  );
}

/**
 * Replays `inputs` (as stored: subject, body bytes, msg id, in stream order) on a fresh nats-server with
 * an uninterrupted in-process service, and returns the decision for each, in the same order.
 */
export async function oracleDecisions(stream: string, inputs: StreamRecord[]): Promise<string[]> {
  const nats = await startTestNats();
  let service: Awaited<ReturnType<typeof startTestService>> | undefined;
  try {
    service = await startTestService(nats.url, { IPAM_STREAM: stream, IPAM_INSTANCE_ID: 'oracle' });
    await waitUntilLive(service);
    const nc = await nats.connect();
    const js = jetstream(nc);
    const seqs: number[] = [];
    for (const r of inputs) {
      const pa = await js.publish(
        r.subject,
        r.data,
        r.msgId === null ? { timeout: 10_000 } : { msgID: r.msgId, timeout: 10_000 },
      );
      seqs.push(pa.seq);
    }
    const audit = new StreamAudit(nc, stream);
    await audit.waitUntilAllAnswered({ timeoutMs: 30_000, settleMs: 100 });
    audit.assertExactlyOnce();
    const by = audit.outcomesByCause();
    return seqs.map((seq) => {
      const o = by.get(seq)![0];
      return decision(o.subject, o.body);
    });
  } finally {
    await service?.close().catch(() => undefined);
    await nats.stop();
  }
}
