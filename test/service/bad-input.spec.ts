/**
 * Bad input of every kind on the input subjects: each is answered with an InvalidEvent rejection on the
 * rejection subject of its kind (ipam.pool.rejected for pool subjects, ipam.lb.rejected for lb subjects)
 * with a reason, and the service goes on serving the events after it. IPAM_MAX_BODY_BYTES is 1024 here.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { publishInput, StreamAudit } from '../support/stream-audit.js';
import { DOC_EXAMPLE_4, loadBalancer } from './doc-examples.js';

const STREAM = 'IPAM_BAD_INPUT';
const LIMIT = 1024;

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let service: IpamService | undefined;
let audit: StreamAudit;
let ids = 0;
let served = 0;

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const json = (v: unknown) => bytes(JSON.stringify(v));

/** A JSON body of exactly `size` bytes: a LoadBalancer whose annotation pads it out. */
function lbOfSize(name: string, size: number): Uint8Array {
  const base = loadBalancer('padded', name, { pad: '' });
  const empty = JSON.stringify(base).length;
  const body = loadBalancer('padded', name, { pad: 'x'.repeat(size - empty) });
  const data = json(body);
  if (data.length !== size) throw new Error(`lbOfSize: built ${data.length} bytes, wanted ${size}`);
  return data;
}

async function publish(subject: string, data: Uint8Array) {
  const id = `bad-${++ids}`;
  const seq = await publishInput(js, subject, data, id);
  return { seq, id };
}

/** A valid LBRequested published right after a bad input must still be served. */
async function expectStillServed(): Promise<void> {
  const { seq } = await publish('ipam.lb.requested', json(loadBalancer('after', `ok-${++served}`)));
  const o = await audit.waitForOutcome(seq);
  expect(o.subject).toBe('ipam.ip.allocated');
  expect(o.body.loadBalancer).toBe(`after/ok-${served}`);
}

beforeAll(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
  service = await startTestService(nats.url, {
    IPAM_STREAM: STREAM,
    IPAM_INSTANCE_ID: 'bad-input-1',
    IPAM_MAX_BODY_BYTES: String(LIMIT),
  });
  await waitUntilLive(service);
  audit = new StreamAudit(nc, STREAM);
  const o = await audit.waitForOutcome(
    await publishInput(js, 'ipam.pool.created', DOC_EXAMPLE_4, 'bad-pool'),
  );
  expect(o.subject).toBe('ipam.pool.accepted');
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

const POOL_SUBJECTS = ['ipam.pool.created', 'ipam.pool.updated', 'ipam.pool.deleted'];
const LB_SUBJECTS = ['ipam.lb.requested', 'ipam.lb.deleted'];

const goodPool = (name: string) => ({
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name },
  spec: { ranges: [{ subnet: '10.50.0.0/24' }], selector: { scope: { namespace: name } } },
});

/** Arrays nested `levels` deep around one number: [[...[1]...]]. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

type Case = [what: string, subject: string, data: Uint8Array, reason: RegExp, name?: string];

const cases: Case[] = [
  // not JSON
  ...POOL_SUBJECTS.map((s): Case => ['not JSON', s, bytes('{"metadata": {"name": "x"'), /JSON/]),
  ...LB_SUBJECTS.map((s): Case => ['not JSON', s, bytes('metadata: {namespace: default}'), /JSON/]),
  ['an empty body', 'ipam.pool.created', new Uint8Array(0), /JSON/],
  ['an empty body', 'ipam.lb.requested', new Uint8Array(0), /JSON/],
  // JSON that is not an object
  ['a JSON array', 'ipam.pool.created', json([goodPool('in-array')]), /object/],
  ['a JSON array', 'ipam.lb.requested', json([loadBalancer('default', 'in-array')]), /object/],
  ['a JSON string', 'ipam.pool.deleted', json('default-ip-pool'), /object/],
  ['a JSON string', 'ipam.lb.deleted', json('default/lb-a'), /object/],
  ['JSON null', 'ipam.lb.requested', bytes('null'), /object/],
  ['a JSON number', 'ipam.pool.updated', bytes('42'), /object/],
  // wrong shape
  [
    'ranges not a list',
    'ipam.pool.created',
    json({ ...goodPool('ranges-string'), spec: { ranges: '10.50.0.0/24', selector: {} } }),
    /ranges/,
    'ranges-string',
  ],
  ['metadata missing', 'ipam.pool.created', json({ spec: goodPool('x').spec }), /metadata/],
  [
    'priority "high"',
    'ipam.pool.updated',
    json({ ...goodPool('prio-high'), spec: { ...goodPool('x').spec, selector: { priority: 'high' } } }),
    /priority/,
    'prio-high',
  ],
  [
    'scope a list of strings',
    'ipam.pool.created',
    json({ ...goodPool('scope-strings'), spec: { ...goodPool('x').spec, selector: { scope: ['default'] } } }),
    /scope/,
    'scope-strings',
  ],
  ['metadata.name missing', 'ipam.pool.deleted', json({ metadata: {} }), /name/],
  ['metadata missing', 'ipam.lb.requested', json({ spec: { ipPool: 'global-ip-pool' } }), /metadata/],
  ['metadata.name missing', 'ipam.lb.deleted', json({ metadata: { namespace: 'default' } }), /name/],
  [
    'annotations not strings',
    'ipam.lb.requested',
    json({
      metadata: {
        namespace: 'default',
        name: 'ann',
        annotations: { 'loadbalancer.harvesterhci.io/network': 7 },
      },
    }),
    /annotations/,
    'default/ann',
  ],
  [
    'workloadType unknown',
    'ipam.lb.requested',
    json({ metadata: { namespace: 'default', name: 'wt' }, spec: { workloadType: 'container' } }),
    /workloadType/,
    'default/wt',
  ],
  // too large
  ['a body over IPAM_MAX_BODY_BYTES', 'ipam.lb.requested', lbOfSize('too-big', LIMIT + 1), /1024/],
  [
    'a body over IPAM_MAX_BODY_BYTES',
    'ipam.pool.created',
    json({ ...goodPool('too-big'), spec: { ...goodPool('x').spec, description: 'd'.repeat(2 * LIMIT) } }),
    /1024/,
  ],
  // nested deeper than 64 levels (the body is level 1): refused before class-validator recurses into it
  [
    'a field nested 65 levels deep',
    'ipam.lb.requested',
    json({ ...loadBalancer('deep', 'arrays'), extra: nested(64) }),
    /deeper than 64 levels/,
    'deep/arrays',
  ],
  [
    'scope nested 65 levels deep',
    'ipam.pool.created',
    json({ ...goodPool('deep-scope'), spec: { ...goodPool('x').spec, selector: { scope: nested(62) } } }),
    /deeper than 64 levels/,
    'deep-scope',
  ],
  // not UTF-8
  [
    'not UTF-8',
    'ipam.pool.created',
    Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    /UTF-8/,
  ],
  [
    'not UTF-8',
    'ipam.lb.requested',
    Uint8Array.from([...bytes('{"metadata":{"namespace":"default","name":"'), 0xc3, 0x28, ...bytes('"}}')]),
    /UTF-8/,
  ],
];

describe('bad input is answered with InvalidEvent, and the next event is still served', () => {
  // each case as one argument: jest would take a missing trailing column for a `done` callback
  it.each(cases.map((c) => ({ title: `${c[0]} on ${c[1]}`, c })))('$title', async ({ c }) => {
    const [, subject, data, reason, name] = c;
    const { seq, id } = await publish(subject, data);
    const o = await audit.waitForOutcome(seq);
    const pool = subject.startsWith('ipam.pool.');
    expect(o.subject).toBe(pool ? 'ipam.pool.rejected' : 'ipam.lb.rejected');
    expect(o.body.code).toBe('InvalidEvent');
    expect(o.body.causationSeq).toBe(seq);
    expect(o.body.causationId).toBe(id);
    expect(typeof o.body.reason).toBe('string');
    expect(o.body.reason).toMatch(reason);
    const who = pool ? o.body.name : o.body.loadBalancer;
    expect(typeof who).toBe('string');
    if (name !== undefined) expect(who).toBe(name);
    await expectStillServed();
  });
});

describe('nesting', () => {
  it('a body nested exactly 64 levels deep is read as usual (an unknown field is no error)', async () => {
    // the body is level 1, the arrays of `extra` levels 2 to 64
    const { seq } = await publish(
      'ipam.lb.requested',
      json({ ...loadBalancer('deep', 'at-limit'), extra: nested(63) }),
    );
    const o = await audit.waitForOutcome(seq);
    expect(o.subject).toBe('ipam.ip.allocated');
    expect(o.body.loadBalancer).toBe('deep/at-limit');
  });
});

describe('IPAM_MAX_BODY_BYTES', () => {
  it('defaults to 65536', () => {
    expect(loadConfig({}).IPAM_MAX_BODY_BYTES).toBe(65536);
  });

  it('a body of exactly the limit is served, one byte more is rejected', async () => {
    const atLimit = await publish('ipam.lb.requested', lbOfSize('at-limit', LIMIT));
    const over = await publish('ipam.lb.requested', lbOfSize('over-limit', LIMIT + 1));
    const a = await audit.waitForOutcome(atLimit.seq);
    const b = await audit.waitForOutcome(over.seq);
    expect(a.subject).toBe('ipam.ip.allocated');
    expect(a.body.loadBalancer).toBe('padded/at-limit');
    expect(b.subject).toBe('ipam.lb.rejected');
    expect(b.body).toMatchObject({ code: 'InvalidEvent' });
    expect(b.body.reason).toMatch(/1025/);
  });
});

describe('after all that', () => {
  it('a burst of bad and good inputs interleaved: every input has exactly one outcome', async () => {
    const seqs: Array<{ seq: number; expected: string }> = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 !== 0) {
        const { seq } = await publish('ipam.lb.requested', json(loadBalancer('burst', `b-${i}`)));
        seqs.push({ seq, expected: 'ipam.ip.allocated' });
      } else {
        const subject = i % 2 === 0 ? 'ipam.pool.created' : 'ipam.lb.deleted';
        const { seq } = await publish(subject, bytes(`{"broken ${i}`));
        seqs.push({
          seq,
          expected: subject === 'ipam.pool.created' ? 'ipam.pool.rejected' : 'ipam.lb.rejected',
        });
      }
    }
    await audit.waitUntilAllAnswered({ timeoutMs: 15_000 });
    const by = audit.outcomesByCause();
    for (const { seq, expected } of seqs) {
      const [o] = by.get(seq) ?? [];
      expect(o?.subject).toBe(expected);
    }
    audit.assertExactlyOnce();
    expect(audit.foldHoldings().violations).toEqual([]);
    const pools = await nc.request('ipam.query.pool', JSON.stringify({ name: 'global-ip-pool' }), {
      timeout: 5000,
    });
    const status = pools.json<{ status: { allocated: Record<string, string> } }>().status;
    expect(Object.keys(status.allocated)).toHaveLength(audit.foldHoldings().byLoadBalancer.size);
  });
});
