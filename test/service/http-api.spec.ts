/**
 * The HTTP API (apps/ipam/src/http), end to end: a real nats-server, the service started in-process
 * (HTTP on a free 127.0.0.1 port), requests with Node's fetch. Read top to bottom, this file is the
 * API's specification:
 *
 *   GET /v1/pools, GET/PUT/DELETE /v1/pools/{name}     pools (PUT takes JSON or YAML; 201 / 200 / 422)
 *   GET/PUT/DELETE /v1/loadbalancers/{namespace}/{name} the address a load balancer holds; request; release
 *   POST /v1/addresses/{ip}/release[?pool=]             an operator's force-release
 *   GET /v1/audit/addresses/{ip}                        every holder of an address  (?at= or ?seq=)
 *   GET /v1/audit/loadbalancers/{namespace}/{name}      what a load balancer held   (?at= or ?seq=)
 *   GET /v1/audit/pools/{name}                          a pool as it was            (?at= or ?seq=)
 *   GET /healthz, /readyz, /metrics                     alive; connected and caught up; Prometheus
 *   GET /openapi.json, /docs                            the OpenAPI document and its page
 *
 * Every answer is checked against the OpenAPI document the service serves (test/support/
 * openapi-responses.ts): its status must be documented for the operation, and its body must match the
 * documented schema. Every error is an RFC 9457 problem (application/problem+json):
 * {type, title, status, detail, code, ...}.
 *
 * Writes publish an input into the stream and answer with its outcome; a 400 publishes nothing. Load
 * balancers are also requested over NATS (ipam.lb.requested) as upstream systems do, and the audit
 * timelines are checked against the stream sequences of those outcomes.
 *
 * The tests run in order and build on each other's state: the pools first, then load balancers in
 * them, then deletion, the audit of a pool of its own, health and metrics, and last NATS going away.
 */
import type { Readiness as ServiceReadiness } from '../../apps/ipam/src/http/readiness.service.js';
import { httpFixture, problem, type HttpFixture, type HttpReply } from '../support/http-fixture.js';
import type { OpenApiDocument } from '../support/openapi-responses.js';
import type { Published } from '../support/service-fixture.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { SCHEMAS } from '../../libs/ipam-contract/src/index.js';
import { sleep, waitFor, type OutcomeRecord } from '../support/stream-audit.js';
import { lbRef, loadBalancer, RKE2_ANNOTATIONS } from './doc-examples.js';

const STREAM = 'IPAM_HTTP';

let f: HttpFixture;
/** one HTTP request; every answer must match the served OpenAPI document (the document and its page aside) */
let http: HttpFixture['http'];
/** the stream sequence of the PoolDeleted input of pool "spare" (set by the DELETE tests) */
let spareDeletedSeq = 0;

// ---------------------------------------------------------------------------------------------------
// helpers

type Reply<T> = HttpReply<T>;

type Json = Record<string, unknown>;

/** What a 400 answer says: every one is a BadRequest problem (the body parser's too). */
function said(r: Reply<unknown>): string {
  expect(r.contentType).toMatch(/^application\/problem\+json/);
  const b = r.body as { detail?: unknown };
  expect(b).toEqual(problem(400, 'BadRequest'));
  return String(b.detail);
}

type Sent = Published;

/** Publishes one input into the stream over NATS (as upstream systems do) and waits for its outcome. */
const send = (subject: string, body: unknown): Promise<Sent> => f.publish(subject, body);

/** The last input stored in the stream, and its outcome. */
async function lastInput(): Promise<{
  seq: number;
  subject: string;
  msgId: string | null;
  body: Json;
  outcome: OutcomeRecord;
}> {
  await f.audit.refresh();
  const input = f.audit.inputs().at(-1);
  if (!input) throw new Error('no input in the stream');
  const outcome = await f.audit.waitForOutcome(input.seq);
  return {
    seq: input.seq,
    subject: input.subject,
    msgId: input.msgId,
    body: JSON.parse(new TextDecoder().decode(input.data)) as Json,
    outcome,
  };
}

/** Runs `fn` and checks that it stored nothing in the stream (a 400 or 404 publishes nothing). */
async function publishesNothing(fn: () => Promise<void>): Promise<void> {
  const before = await f.audit.lastSeq();
  await fn();
  expect(await f.audit.lastSeq()).toBe(before);
}

/** The /readyz body: the service's own readiness fields, with a status word (and `live` when ready). */
type Readiness = ServiceReadiness & { status: string; live?: boolean };

/** Waits until the service has read (and so folded into its audit model) everything in the stream. */
async function settled(): Promise<number> {
  const last = await f.audit.lastSeq();
  await waitFor(
    `the service to read the stream up to seq ${last}`,
    async () => {
      const r = await http<Readiness>('GET', '/readyz');
      return r.status === 200 && r.body.position >= last;
    },
    { timeoutMs: 10_000, intervalMs: 10 },
  );
  return last;
}

interface PoolStatus {
  total: number;
  available: number;
  lastAllocated: string;
  allocated: Record<string, string>;
  allocatedHistory: Record<string, string>;
}

interface PoolView {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Json;
  status: PoolStatus;
}

/** A 422 problem: the rejection outcome's code, its reason as detail, its fields, and `seq`. */
interface Rejection {
  code: string;
  detail: string;
  seq: number;
  causationSeq: number;
  causationId: string;
  [key: string]: unknown;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
}

interface Point {
  seq: number;
  time: string;
  causationSeq: number;
}

interface Holding {
  ip: string;
  ipPool: string;
  loadBalancer: string;
  fromHistory: boolean;
  from: Point;
  to: (Point & { forced: boolean }) | null;
}

type TimelineEntry =
  | ({ kind: 'held' } & Holding)
  | { kind: 'rejected'; loadBalancer: string; code: string; reason: string; at: Point };

const CANONICAL_API_VERSION = 'loadbalancer.harvesterhci.io/v1beta1';

/** A pool of one range whose scope is the namespace of the same name. */
function pool(name: string, range: Json, selector: Json = { scope: { namespace: name } }): Json {
  return {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name },
    spec: { ranges: [range], selector },
  };
}

const fresh = (total: number): PoolStatus => ({
  total,
  available: total,
  lastAllocated: '',
  allocated: {},
  allocatedHistory: {},
});

/** The same instant as `iso`, written with a +01:00 offset (RFC 3339 allows any offset). */
function withPlusOneHour(iso: string): string {
  return new Date(Date.parse(iso) + 3_600_000).toISOString().replace('Z', '+01:00');
}

/** Prometheus text -> series (name with its labels, as printed) -> value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  f = await httpFixture(STREAM, 'http-api', { idPrefix: 'http-spec' });
  ({ http } = f);
}, 30_000);

afterAll(() => f?.stop(), 30_000);

describe('PUT /v1/pools/{name}', () => {
  it('creates a pool from JSON: publishes PoolCreated, 201 with the canonical pool and its status', async () => {
    const r = await http<PoolView>('PUT', '/v1/pools/web', {
      json: {
        apiVersion: 'networking.harvesterhci.io/v1beta1', // the doc page's spelling
        kind: 'IPPool',
        metadata: { name: 'web' },
        spec: { ranges: [{ subnet: '10.1.0.0/24' }], selector: { scope: { namespace: 'web' } } },
      },
    });
    expect(r.status).toBe(201);
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.body).toEqual({
      apiVersion: CANONICAL_API_VERSION,
      kind: 'IPPool',
      metadata: { name: 'web', resourceVersion: expect.stringMatching(/^[0-9]+$/) },
      spec: {
        ranges: [{ subnet: '10.1.0.0/24' }],
        selector: { priority: 0, scope: [{ project: '', namespace: 'web', guestCluster: '' }] },
      },
      status: fresh(253),
    });
    const input = await lastInput();
    expect(input.subject).toBe('ipam.pool.created');
    expect(input.msgId).toMatch(/^http-/);
    expect(input.body).toMatchObject({ metadata: { name: 'web' } });
    expect(input.outcome.subject).toBe('ipam.pool.accepted');
    expect(input.outcome.body).toMatchObject({ name: 'web', change: 'created', causationId: input.msgId });
  });

  it('creates a pool from YAML (application/yaml): the doc page example 2, pasted as it is', async () => {
    const yaml = [
      'apiVersion: networking.harvesterhci.io/v1beta1',
      'kind: IPPool',
      'metadata:',
      '  name: rke2-ip-pool',
      'spec:',
      '  ranges:',
      '  - subnet: 192.168.10.0/24',
      '    rangeStart: 192.168.10.10',
      '    rangeEnd: 192.168.10.20',
      '  selector:',
      '    network: default/vlan1',
      '    scope:',
      '      project: product',
      '      namespace: default',
      '      cluster: rke2',
      '',
    ].join('\n');
    const r = await http<PoolView>('PUT', '/v1/pools/rke2-ip-pool', { body: yaml, type: 'application/yaml' });
    expect(r.status).toBe(201);
    expect(r.body.spec).toEqual({
      ranges: [{ subnet: '192.168.10.0/24', rangeStart: '192.168.10.10', rangeEnd: '192.168.10.20' }],
      selector: {
        priority: 0,
        network: 'default/vlan1',
        scope: [{ project: 'product', namespace: 'default', guestCluster: 'rke2' }],
      },
    });
    // .10-.20, the default gateway .1 outside the range: 11 addresses
    expect(r.body.status).toEqual(fresh(11));
    expect((await lastInput()).subject).toBe('ipam.pool.created');
  });

  it.each([
    ['application/x-yaml', 'yaml-a', '10.2.1.0/29'],
    ['text/yaml', 'yaml-b', '10.2.2.0/29'],
    ['text/plain', 'yaml-c', '10.2.3.0/29'],
  ])('reads YAML sent as %s too', async (type, name, subnet) => {
    const yaml = `kind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  ranges:\n    - subnet: ${subnet}\n  selector:\n    scope:\n      namespace: ${name}\n`;
    const r = await http<PoolView>('PUT', `/v1/pools/${name}`, { body: yaml, type });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual({ name, resourceVersion: expect.stringMatching(/^[0-9]+$/) });
    // a /29: 8 addresses less the network, broadcast and gateway addresses
    expect(r.body.status).toEqual(fresh(5));
  });

  it('takes metadata.name from the path when the body has none', async () => {
    const r = await http<PoolView>('PUT', '/v1/pools/spare', {
      json: { spec: { ranges: [{ subnet: '10.3.0.0/24' }], selector: { scope: { namespace: 'spare' } } } },
    });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual({ name: 'spare', resourceVersion: expect.stringMatching(/^[0-9]+$/) });
    expect(r.body.status).toEqual(fresh(253));
    expect((await lastInput()).body).toMatchObject({ metadata: { name: 'spare' } });
  });

  it('replaces an existing pool: publishes PoolUpdated, 200 with the new spec and status', async () => {
    const r = await http<PoolView>('PUT', '/v1/pools/spare', {
      json: pool('spare', { subnet: '10.3.0.0/24', rangeStart: '10.3.0.10', rangeEnd: '10.3.0.19' }),
    });
    expect(r.status).toBe(200);
    expect(r.body.spec.ranges).toEqual([
      { subnet: '10.3.0.0/24', rangeStart: '10.3.0.10', rangeEnd: '10.3.0.19' },
    ]);
    expect(r.body.status).toEqual(fresh(10));
    const input = await lastInput();
    expect(input.subject).toBe('ipam.pool.updated');
    expect(input.outcome.subject).toBe('ipam.pool.accepted');
    expect(input.outcome.body).toMatchObject({ name: 'spare', change: 'updated' });
  });

  it('the same spec again: 200, the pool unchanged', async () => {
    const spec = pool('spare', { subnet: '10.3.0.0/24', rangeStart: '10.3.0.10', rangeEnd: '10.3.0.19' });
    const before = await http<PoolView>('GET', '/v1/pools/spare');
    const r = await http<PoolView>('PUT', '/v1/pools/spare', { json: spec });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(before.body);
  });

  it('creates the global pool (scope */*/*), here one that serves only network infra/vlan9', async () => {
    const r = await http<PoolView>('PUT', '/v1/pools/everyone', {
      json: pool(
        'everyone',
        { subnet: '10.9.0.0/24' },
        { network: 'infra/vlan9', scope: { project: '*', namespace: '*', cluster: '*' } },
      ),
    });
    expect(r.status).toBe(201);
    expect(r.body.status).toEqual(fresh(253));
  });

  it.each([
    [
      'a range overlapping another pool',
      pool('overlap', { subnet: '10.1.0.128/25' }),
      'RangeOverlap',
      /pool "web"/,
    ],
    [
      'rangeStart after rangeEnd',
      pool('backwards', { subnet: '10.6.0.0/24', rangeStart: '10.6.0.9', rangeEnd: '10.6.0.5' }),
      'InvalidRange',
      /rangeStart 10\.6\.0\.9 is after rangeEnd 10\.6\.0\.5/,
    ],
    [
      'a second global pool',
      pool(
        'everyone-2',
        { subnet: '10.5.0.0/24' },
        { scope: { project: '*', namespace: '*', cluster: '*' } },
      ),
      'GlobalPoolExists',
      /"everyone" is already the global pool/,
    ],
    [
      'the scope of another priority-0 pool on the same network',
      pool('web-copy', { subnet: '10.4.0.0/24' }, { scope: { namespace: 'web' } }),
      'ScopeOverlap',
      /pool "web"/,
    ],
    [
      'a network that is not namespace/name',
      pool('badnet', { subnet: '10.7.0.0/24' }, { network: 'vlan1', scope: { namespace: 'badnet' } }),
      'InvalidNetwork',
      /"vlan1"/,
    ],
  ])('%s: 422 with the rejection code and reason, and no pool', async (_what, body, code, reason) => {
    const name = (body.metadata as { name: string }).name;
    const r = await http<Rejection>('PUT', `/v1/pools/${name}`, { json: body });
    expect(r.status).toBe(422);
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body).toEqual(
      problem(422, code, expect.stringMatching(reason), {
        name,
        seq: expect.any(Number),
        causationSeq: r.body.seq,
        causationId: expect.stringMatching(/^http-/),
      }),
    );
    // the stored input at `seq` was PoolCreated, answered by the same rejection
    const outcome = await f.audit.waitForOutcome(r.body.seq);
    expect(f.audit.records.get(r.body.seq)?.subject).toBe('ipam.pool.created');
    expect(outcome.subject).toBe('ipam.pool.rejected');
    expect(outcome.body).toMatchObject({ name, code, reason: r.body.detail });
    expect((await http('GET', `/v1/pools/${name}`)).status).toBe(404);
  });

  it.each([
    ['malformed JSON', '{"metadata": {"name": "bad"', 'application/json', /JSON/],
    ['malformed YAML', 'spec:\n  ranges: [\n', 'application/yaml', /neither JSON nor YAML/],
    ['YAML that is a plain string', 'just some text', 'text/plain', /one IPPool object/],
    ['a JSON array', '[{"metadata": {"name": "bad"}}]', 'application/json', /one IPPool object/],
    ['no body', '', 'application/json', /spec must be an object/],
    ['a content type that is neither JSON nor YAML', '<IPPool/>', 'application/xml', /one IPPool object/],
    [
      'metadata.name other than the path',
      '{"metadata": {"name": "other"}, "spec": {"ranges": [{"subnet": "10.8.0.0/24"}]}}',
      'application/json',
      /metadata\.name "other" does not match the path's name "bad"/,
    ],
    [
      'ranges that are not a list',
      '{"spec": {"ranges": "10.8.0.0/24"}}',
      'application/json',
      /spec\.ranges must be an array/,
    ],
    [
      'a range without a subnet',
      'spec:\n  ranges:\n    - rangeStart: 10.8.0.10\n',
      'application/yaml',
      /subnet/,
    ],
  ])('%s: 400 saying what is wrong, nothing published', async (_what, body, type, reason) => {
    await publishesNothing(async () => {
      const r = await http<Problem>('PUT', '/v1/pools/bad', { body, type });
      expect(r.status).toBe(400);
      expect(said(r)).toMatch(reason);
    });
    expect((await http('GET', '/v1/pools/bad')).status).toBe(404);
  });

  it('a body over the input limit (64 KiB by default): 413 PayloadTooLarge, JSON and YAML alike, nothing published', async () => {
    const big = `{"metadata": {"name": "bad"}, "spec": {"description": "${'x'.repeat(64 * 1024)}"}}`;
    await publishesNothing(async () => {
      for (const type of ['application/json', 'application/yaml']) {
        const r = await http('PUT', '/v1/pools/bad', { body: big, type });
        expect(r.status).toBe(413);
        expect(r.body).toEqual(
          problem(413, 'PayloadTooLarge', 'the body is larger than the limit of 65536 bytes'),
        );
      }
    });
  });

  it('a path name that is not a DNS-1123 name: 400, nothing published', async () => {
    await publishesNothing(async () => {
      const r = await http<Problem>('PUT', '/v1/pools/Not_A_Name', {
        json: { spec: { ranges: [{ subnet: '10.8.0.0/24' }] } },
      });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(
        problem(400, 'BadRequest', expect.stringContaining('"Not_A_Name" is not a valid name')),
      );
    });
  });
});

describe('GET /v1/pools and GET /v1/pools/{name}', () => {
  it('lists every pool by name, each with its status', async () => {
    const r = await http<{ items: PoolView[] }>('GET', '/v1/pools');
    expect(r.status).toBe(200);
    expect(r.body.items.map((p) => p.metadata.name)).toEqual([
      'everyone',
      'rke2-ip-pool',
      'spare',
      'web',
      'yaml-a',
      'yaml-b',
      'yaml-c',
    ]);
    const totals = Object.fromEntries(r.body.items.map((p) => [p.metadata.name, p.status]));
    expect(totals).toEqual({
      everyone: fresh(253),
      'rke2-ip-pool': fresh(11),
      spare: fresh(10),
      web: fresh(253),
      'yaml-a': fresh(5),
      'yaml-b': fresh(5),
      'yaml-c': fresh(5),
    });
    for (const p of r.body.items) {
      expect(p.apiVersion).toBe(CANONICAL_API_VERSION);
      expect(p.kind).toBe('IPPool');
    }
  });

  it('answers one pool', async () => {
    const r = await http<PoolView>('GET', '/v1/pools/rke2-ip-pool');
    expect(r.status).toBe(200);
    expect(r.body.metadata).toEqual({
      name: 'rke2-ip-pool',
      resourceVersion: expect.stringMatching(/^[0-9]+$/),
    });
    expect(r.body.status).toEqual(fresh(11));
  });

  it('an unknown pool: 404 UnknownPool', async () => {
    const r = await http<Problem>('GET', '/v1/pools/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual(problem(404, 'UnknownPool', 'pool "nope" does not exist.'));
  });

  it('a name that is not a DNS-1123 name: 400', async () => {
    const r = await http<Problem>('GET', '/v1/pools/UPPER_case');
    expect(r.status).toBe(400);
    expect(r.body).toEqual(problem(400, 'BadRequest', expect.stringContaining('"UPPER_case"')));
  });
});

describe('/v1/loadbalancers/{namespace}/{name}', () => {
  it('GET: the address a load balancer requested over NATS holds (next-fit: .2, .3, .4)', async () => {
    for (const name of ['a', 'b', 'c']) {
      const s = await send('ipam.lb.requested', loadBalancer('web', name));
      expect(s.outcome.subject).toBe('ipam.ip.allocated');
    }
    for (const [name, ip] of [
      ['a', '10.1.0.2'],
      ['b', '10.1.0.3'],
      ['c', '10.1.0.4'],
    ]) {
      const r = await http('GET', `/v1/loadbalancers/web/${name}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        loadBalancer: `web/${name}`,
        ipPool: 'web',
        ip,
        mask: '255.255.255.0',
        prefixLength: 24,
        gateway: '10.1.0.1',
      });
    }
  });

  it('GET of a load balancer holding nothing: 404 UnknownLoadBalancer', async () => {
    const r = await http<Problem>('GET', '/v1/loadbalancers/web/never-seen');
    expect(r.status).toBe(404);
    expect(r.body).toEqual(
      problem(404, 'UnknownLoadBalancer', 'load balancer web/never-seen holds no address.'),
    );
  });

  it('a name with a "/" in it: 400', async () => {
    const r = await http<Problem>('GET', '/v1/loadbalancers/web/a%2Fb');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BadRequest');
  });

  it('DELETE: publishes LBDeleted, 200 with the release; the address goes to the pool history', async () => {
    const r = await http('DELETE', '/v1/loadbalancers/web/a');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      loadBalancer: 'web/a',
      ipPool: 'web',
      ip: '10.1.0.2',
      causationSeq: expect.any(Number),
      causationId: expect.stringMatching(/^http-/),
    });
    const input = await lastInput();
    expect(input.subject).toBe('ipam.lb.deleted');
    expect(input.body).toEqual(lbRef('web', 'a'));
    expect(input.outcome.subject).toBe('ipam.ip.released');
    expect((await http('GET', '/v1/loadbalancers/web/a')).status).toBe(404);
    const web = await http<PoolView>('GET', '/v1/pools/web');
    expect(web.body.status).toEqual({
      total: 253,
      available: 251,
      lastAllocated: '10.1.0.4',
      allocated: { '10.1.0.3': 'web/b', '10.1.0.4': 'web/c' },
      allocatedHistory: { '10.1.0.2': 'web/a' },
    });
  });

  it('DELETE of a load balancer holding nothing: 404, nothing published', async () => {
    await publishesNothing(async () => {
      const r = await http<Problem>('DELETE', '/v1/loadbalancers/web/a');
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('UnknownLoadBalancer');
    });
  });

  it('PUT: publishes LBRequested, 200 with the allocation; a new one gets the next address, not a released one', async () => {
    const r = await http('PUT', '/v1/loadbalancers/web/d');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      loadBalancer: 'web/d',
      ipPool: 'web',
      ip: '10.1.0.5',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '10.1.0.1',
      fromHistory: false,
      causationSeq: expect.any(Number),
      causationId: expect.stringMatching(/^http-/),
    });
    const input = await lastInput();
    expect(input.subject).toBe('ipam.lb.requested');
    expect(input.body).toEqual({ metadata: { namespace: 'web', name: 'd' } });
    expect(input.outcome.subject).toBe('ipam.ip.allocated');
  });

  it('PUT: a returning load balancer gets its old address back from history', async () => {
    const r = await http('PUT', '/v1/loadbalancers/web/a');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ loadBalancer: 'web/a', ip: '10.1.0.2', fromHistory: true });
    const web = await http<PoolView>('GET', '/v1/pools/web');
    expect(web.body.status.allocatedHistory).toEqual({});
    expect(web.body.status.lastAllocated).toBe('10.1.0.2');
  });

  it('PUT again: the same address (allocation is sticky)', async () => {
    const r = await http('PUT', '/v1/loadbalancers/web/d');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ loadBalancer: 'web/d', ip: '10.1.0.5' });
  });

  it('PUT with annotations: the pool they select (doc example 2, and the global pool of a network)', async () => {
    const guest = await http('PUT', '/v1/loadbalancers/default/guest', {
      json: { metadata: { annotations: RKE2_ANNOTATIONS } },
    });
    expect(guest.status).toBe(200);
    expect(guest.body).toMatchObject({
      loadBalancer: 'default/guest',
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.10',
      gateway: '192.168.10.1',
    });
    const infra = await http('PUT', '/v1/loadbalancers/anyone/lb', {
      json: { metadata: { annotations: { 'loadbalancer.harvesterhci.io/network': 'infra/vlan9' } } },
    });
    expect(infra.status).toBe(200);
    expect(infra.body).toMatchObject({ loadBalancer: 'anyone/lb', ipPool: 'everyone', ip: '10.9.0.2' });
  });

  it.each([
    ['no pool matches', 'nowhere', {}, 'NoMatchingPool', /no IP pool matches/],
    ['spec.ipPool names no pool', 'web', { spec: { ipPool: 'nope' } }, 'UnknownPool', /"nope"/],
    [
      'spec.ip is held by another',
      'web',
      { spec: { ip: '10.1.0.3' } },
      'AddressUnavailable',
      /held by web\/b/,
    ],
  ])('PUT when %s: 422 with the rejection code and reason', async (_what, namespace, body, code, reason) => {
    const r = await http<Rejection>('PUT', `/v1/loadbalancers/${namespace}/z`, { json: body });
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      problem(422, code, expect.stringMatching(reason), {
        loadBalancer: `${namespace}/z`,
        seq: expect.any(Number),
        causationSeq: r.body.seq,
        causationId: expect.stringMatching(/^http-/),
      }),
    );
    expect((await f.audit.waitForOutcome(r.body.seq)).subject).toBe('ipam.lb.rejected');
    expect((await http('GET', `/v1/loadbalancers/${namespace}/z`)).status).toBe(404);
  });

  it.each([
    ['annotations that are not strings', '{"metadata": {"annotations": {"a": 1}}}', /annotations/],
    ['malformed JSON', '{"spec": ', /JSON/],
  ])('PUT with %s: 400, nothing published', async (_what, body, reason) => {
    await publishesNothing(async () => {
      const r = await http('PUT', '/v1/loadbalancers/web/y', { body, type: 'application/json' });
      expect(r.status).toBe(400);
      expect(said(r)).toMatch(reason);
    });
  });
});

describe('POST /v1/addresses/{ip}/release (force-release)', () => {
  it("releases the holder's address (forced: true) into history; 200 as documented", async () => {
    const e = await send('ipam.lb.requested', loadBalancer('web', 'e'));
    // next-fit after lastAllocated .2: .3 .4 .5 are held
    expect(e.outcome.body).toMatchObject({ ip: '10.1.0.6' });
    const r = await http('POST', '/v1/addresses/10.1.0.6/release');
    expect(r.body).toEqual({
      loadBalancer: 'web/e',
      ipPool: 'web',
      ip: '10.1.0.6',
      forced: true,
      causationSeq: expect.any(Number),
      causationId: expect.stringMatching(/^http-/),
    });
    const input = await lastInput();
    expect(input.subject).toBe('ipam.ip.releaserequested');
    expect(input.body).toEqual({ ip: '10.1.0.6' });
    expect(input.outcome.subject).toBe('ipam.ip.released');
    expect((await http('GET', '/v1/loadbalancers/web/e')).status).toBe(404);
    const web = await http<PoolView>('GET', '/v1/pools/web');
    expect(web.body.status.allocatedHistory).toEqual({ '10.1.0.6': 'web/e' });
    // the controller's @ApiResponse (and so the OpenAPI document) says 200
    expect(r.status).toBe(200);
  });

  it('?pool= releases in that pool only', async () => {
    const f = await send('ipam.lb.requested', loadBalancer('web', 'f'));
    expect(f.outcome.body).toMatchObject({ ip: '10.1.0.7' });
    const r = await http('POST', '/v1/addresses/10.1.0.7/release?pool=web');
    expect(r.body).toMatchObject({ loadBalancer: 'web/f', ipPool: 'web', ip: '10.1.0.7', forced: true });
    expect((await lastInput()).body).toEqual({ ip: '10.1.0.7', ipPool: 'web' });
    expect(r.status).toBe(200);
  });

  it.each([
    ['an address nobody holds', '10.1.0.200', '', null, 'AddressNotAllocated', /not allocated in any pool/],
    ['an unknown pool', '10.1.0.3', '?pool=nope', 'nope', 'UnknownPool', /"nope" does not exist/],
    [
      'a pool that does not hold the address',
      '10.1.0.3',
      '?pool=rke2-ip-pool',
      'rke2-ip-pool',
      'AddressNotAllocated',
      /not allocated in pool "rke2-ip-pool"/,
    ],
  ])('%s: 422 with the rejection code and reason', async (_what, ip, query, ipPool, code, reason) => {
    const r = await http<Rejection>('POST', `/v1/addresses/${ip}/release${query}`);
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      problem(422, code, expect.stringMatching(reason), {
        ip,
        ipPool,
        seq: expect.any(Number),
        causationSeq: r.body.seq,
        causationId: expect.stringMatching(/^http-/),
      }),
    );
    expect((await f.audit.waitForOutcome(r.body.seq)).subject).toBe('ipam.ip.rejected');
  });

  it('web/b still holds 10.1.0.3 after those rejections', async () => {
    expect((await http('GET', '/v1/loadbalancers/web/b')).body).toMatchObject({ ip: '10.1.0.3' });
  });

  it.each([
    ['an octet over 255', '10.1.0.256', ''],
    ['a leading zero', '010.1.0.3', ''],
    ['not an address', 'web-b', ''],
    ['an IPv4-mapped IPv6 address', '::ffff:10.1.0.3', ''],
    ['a pool name that is not a name', '10.1.0.3', '?pool=Not_A_Name'],
  ])('%s: 400, nothing published', async (_what, ip, query) => {
    await publishesNothing(async () => {
      const r = await http<Problem>('POST', `/v1/addresses/${encodeURIComponent(ip)}/release${query}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(problem(400, 'BadRequest'));
    });
  });
});

describe('DELETE /v1/pools/{name}', () => {
  it('an unknown pool: 404 UnknownPool, nothing published', async () => {
    await publishesNothing(async () => {
      const r = await http<Problem>('DELETE', '/v1/pools/nope');
      expect(r.status).toBe(404);
      expect(r.body).toEqual(problem(404, 'UnknownPool', 'pool "nope" does not exist.'));
    });
  });

  it('a pool with allocated addresses: 422 PoolInUse, the pool stays', async () => {
    const r = await http<Rejection>('DELETE', '/v1/pools/web');
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      problem(422, 'PoolInUse', expect.stringContaining('still has 4 allocated address(es)'), {
        name: 'web',
        seq: expect.any(Number),
        causationSeq: r.body.seq,
        causationId: expect.stringMatching(/^http-/),
      }),
    );
    expect((await f.audit.waitForOutcome(r.body.seq)).subject).toBe('ipam.pool.rejected');
    expect(f.audit.records.get(r.body.seq)?.subject).toBe('ipam.pool.deleted');
    expect((await http('GET', '/v1/pools/web')).status).toBe(200);
  });

  it('PUT of a spec that leaves an allocated address outside: 422 AllocatedOutOfRange, the pool unchanged', async () => {
    const before = await http<PoolView>('GET', '/v1/pools/web');
    const r = await http<Rejection>('PUT', '/v1/pools/web', {
      json: pool('web', { subnet: '10.1.0.0/24', rangeStart: '10.1.0.100' }),
    });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      status: 422,
      name: 'web',
      code: 'AllocatedOutOfRange',
      seq: expect.any(Number),
    });
    expect((await f.audit.waitForOutcome(r.body.seq)).subject).toBe('ipam.pool.rejected');
    expect((await http('GET', '/v1/pools/web')).body).toEqual(before.body);
    expect(before.body.status).toEqual({
      total: 253,
      available: 249,
      lastAllocated: '10.1.0.7',
      allocated: { '10.1.0.2': 'web/a', '10.1.0.3': 'web/b', '10.1.0.4': 'web/c', '10.1.0.5': 'web/d' },
      allocatedHistory: { '10.1.0.6': 'web/e', '10.1.0.7': 'web/f' },
    });
  });

  it('a pool with only history: publishes PoolDeleted, 200 with the outcome; then it is gone', async () => {
    expect((await send('ipam.lb.requested', loadBalancer('spare', 'x'))).outcome.body).toMatchObject({
      ip: '10.3.0.10',
    });
    expect((await http('DELETE', '/v1/loadbalancers/spare/x')).status).toBe(200);
    const r = await http('DELETE', '/v1/pools/spare');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      name: 'spare',
      change: 'deleted',
      causationSeq: expect.any(Number),
      causationId: expect.stringMatching(/^http-/),
    });
    const input = await lastInput();
    expect(input.subject).toBe('ipam.pool.deleted');
    expect(input.body).toEqual({ metadata: { name: 'spare' } });
    spareDeletedSeq = input.seq;
    expect((await http('GET', '/v1/pools/spare')).status).toBe(404);
    const list = await http<{ items: PoolView[] }>('GET', '/v1/pools');
    expect(list.body.items.map((p) => p.metadata.name)).not.toContain('spare');
  });
});

describe('/v1/audit', () => {
  // Pool "ledger" (10.20.0.0/24), driven over NATS, 20 ms apart so that each outcome has its own time:
  //   P  pool created
  //   A1 ledger/x gets .2          R1 ledger/x released        J1 release of ledger/x again: rejected
  //   A2 ledger/y gets .3 (next-fit, not the released .2)
  //   A3 ledger/x gets .2 back (from history)                  F  .3 force-released (ledger/y)
  let P: Sent, A1: Sent, R1: Sent, J1: Sent, A2: Sent, A3: Sent, F: Sent;
  let last = 0;
  const step = async (subject: string, body: unknown): Promise<Sent> => {
    const s = await send(subject, body);
    await sleep(20);
    return s;
  };

  beforeAll(async () => {
    P = await step('ipam.pool.created', pool('ledger', { subnet: '10.20.0.0/24' }));
    A1 = await step('ipam.lb.requested', loadBalancer('ledger', 'x'));
    R1 = await step('ipam.lb.deleted', lbRef('ledger', 'x'));
    J1 = await step('ipam.lb.deleted', lbRef('ledger', 'x'));
    A2 = await step('ipam.lb.requested', loadBalancer('ledger', 'y'));
    A3 = await step('ipam.lb.requested', loadBalancer('ledger', 'x'));
    F = await step('ipam.ip.releaserequested', { ip: '10.20.0.3' });
    expect([P, A1, R1, J1, A2, A3, F].map((s) => s.outcome.subject)).toEqual([
      'ipam.pool.accepted',
      'ipam.ip.allocated',
      'ipam.ip.released',
      'ipam.lb.rejected',
      'ipam.ip.allocated',
      'ipam.ip.allocated',
      'ipam.ip.released',
    ]);
    last = await settled();
  }, 20_000);

  const point = (s: Sent) => ({ seq: s.outcome.seq, time: expect.any(String), causationSeq: s.seq });
  const addressHolders = async (query = '') => {
    const r = await http<{ ip: string; holders: Holding[] }>('GET', `/v1/audit/addresses/10.20.0.2${query}`);
    expect(r.status).toBe(200);
    return r.body.holders;
  };

  describe('GET /v1/audit/addresses/{ip}', () => {
    it('every holder of the address, oldest first, with the sequence and time of each change', async () => {
      const r = await http<{ ip: string; holders: Holding[] }>('GET', '/v1/audit/addresses/10.20.0.2');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        ip: '10.20.0.2',
        total: 2,
        holders: [
          {
            ip: '10.20.0.2',
            ipPool: 'ledger',
            loadBalancer: 'ledger/x',
            fromHistory: false,
            from: point(A1),
            to: { ...point(R1), forced: false },
          },
          {
            ip: '10.20.0.2',
            ipPool: 'ledger',
            loadBalancer: 'ledger/x',
            fromHistory: true,
            from: point(A3),
            to: null,
          },
        ],
      });
      const [h1, h2] = r.body.holders;
      const t = [h1.from.time, h1.to?.time ?? '', h2.from.time].map((x) => Date.parse(x));
      expect(t.every((x) => !Number.isNaN(x))).toBe(true);
      expect(t[0]).toBeLessThan(t[1]);
      expect(t[1]).toBeLessThan(t[2]);
    });

    it('a forced release is marked forced', async () => {
      const r = await http<{ holders: Holding[] }>('GET', '/v1/audit/addresses/10.20.0.3');
      expect(r.body.holders).toEqual([
        expect.objectContaining({
          loadBalancer: 'ledger/y',
          from: point(A2),
          to: { ...point(F), forced: true },
        }),
      ]);
    });

    it('?seq=: only the holder as of that stream sequence', async () => {
      const all = await addressHolders();
      expect(await addressHolders(`?seq=${A1.outcome.seq}`)).toEqual([all[0]]);
      // the release's input is stored before its outcome: x still holds it then
      expect(await addressHolders(`?seq=${R1.seq}`)).toEqual([all[0]]);
      expect(await addressHolders(`?seq=${R1.outcome.seq}`)).toEqual([]);
      expect(await addressHolders(`?seq=${A2.outcome.seq}`)).toEqual([]);
      expect(await addressHolders(`?seq=${A3.outcome.seq}`)).toEqual([all[1]]);
      expect(await addressHolders(`?seq=${A1.seq}`)).toEqual([]);
      const r = await http('GET', `/v1/audit/addresses/10.20.0.2?seq=${A1.outcome.seq}`);
      expect(r.body).toMatchObject({ ip: '10.20.0.2', seq: A1.outcome.seq });
    });

    it('?at=: only the holder at that time (RFC 3339, any offset)', async () => {
      const [h1, h2] = await addressHolders();
      const to1 = h1.to?.time ?? '';
      expect(await addressHolders(`?at=${h1.from.time}`)).toEqual([h1]);
      expect(await addressHolders(`?at=${encodeURIComponent(withPlusOneHour(h1.from.time))}`)).toEqual([h1]);
      expect(await addressHolders(`?at=${to1}`)).toEqual([]);
      expect(await addressHolders(`?at=${h2.from.time}`)).toEqual([h2]);
      expect(await addressHolders('?at=2000-01-01T00:00:00Z')).toEqual([]);
      const r = await http('GET', `/v1/audit/addresses/10.20.0.2?at=${h2.from.time}`);
      expect(r.body).toMatchObject({ ip: '10.20.0.2', at: h2.from.time });
    });

    it('answers with the canonical text of the address; one never held has no holders', async () => {
      const r = await http('GET', '/v1/audit/addresses/fd00:0:0:0::5');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ip: 'fd00::5', total: 0, holders: [] });
    });
  });

  describe('GET /v1/audit/loadbalancers/{namespace}/{name}', () => {
    const timeline = async (query = '') => {
      const r = await http<{ loadBalancer: string; entries: TimelineEntry[] }>(
        'GET',
        `/v1/audit/loadbalancers/ledger/x${query}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.loadBalancer).toBe('ledger/x');
      return r.body.entries;
    };

    it('every address it held and every rejection it got, oldest first', async () => {
      const entries = await timeline();
      expect(entries).toEqual([
        expect.objectContaining({ kind: 'held', ip: '10.20.0.2', fromHistory: false, from: point(A1) }),
        {
          kind: 'rejected',
          loadBalancer: 'ledger/x',
          code: 'UnknownLoadBalancer',
          reason: expect.stringContaining('ledger/x holds no address'),
          at: point(J1),
        },
        expect.objectContaining({
          kind: 'held',
          ip: '10.20.0.2',
          fromHistory: true,
          from: point(A3),
          to: null,
        }),
      ]);
      const holders = await addressHolders();
      expect(entries[0]).toEqual({ kind: 'held', ...holders[0] });
      expect(entries[2]).toEqual({ kind: 'held', ...holders[1] });
    });

    it('?seq=: the entries up to that sequence', async () => {
      const all = await timeline();
      expect(await timeline(`?seq=${A1.seq}`)).toEqual([]);
      expect(await timeline(`?seq=${A1.outcome.seq}`)).toEqual([all[0]]);
      expect(await timeline(`?seq=${J1.outcome.seq}`)).toEqual([all[0], all[1]]);
      expect(await timeline(`?seq=${A3.outcome.seq}`)).toEqual(all);
    });

    it('?at=: the entries up to that time', async () => {
      const all = await timeline();
      const rejectedAt = all[1].kind === 'rejected' ? all[1].at.time : '';
      expect(await timeline('?at=2000-01-01T00:00:00Z')).toEqual([]);
      expect(await timeline(`?at=${rejectedAt}`)).toEqual([all[0], all[1]]);
      expect(await timeline(`?at=${encodeURIComponent(withPlusOneHour(rejectedAt))}`)).toEqual([
        all[0],
        all[1],
      ]);
      expect(await timeline(`?at=${new Date().toISOString()}`)).toEqual(all);
    });

    it('a load balancer never seen has an empty timeline', async () => {
      const r = await http('GET', '/v1/audit/loadbalancers/ledger/never-seen');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ loadBalancer: 'ledger/never-seen', total: 0, entries: [] });
    });
  });

  describe('GET /v1/audit/pools/{name}', () => {
    const asOf = async (query: string) =>
      http<PoolView & { asOfSeq: number }>('GET', `/v1/audit/pools/ledger${query}`);

    it('?seq=: the pool with its full status as of that sequence', async () => {
      const created = await asOf(`?seq=${P.outcome.seq}`);
      expect(created.status).toBe(200);
      expect(created.body).toEqual({
        asOfSeq: P.outcome.seq,
        apiVersion: CANONICAL_API_VERSION,
        kind: 'IPPool',
        metadata: { name: 'ledger', resourceVersion: expect.stringMatching(/^[0-9]+$/) },
        spec: {
          ranges: [{ subnet: '10.20.0.0/24' }],
          selector: { priority: 0, scope: [{ project: '', namespace: 'ledger', guestCluster: '' }] },
        },
        status: fresh(253),
      });
      expect((await asOf(`?seq=${A1.outcome.seq}`)).body.status).toEqual({
        total: 253,
        available: 252,
        lastAllocated: '10.20.0.2',
        allocated: { '10.20.0.2': 'ledger/x' },
        allocatedHistory: {},
      });
      expect((await asOf(`?seq=${R1.outcome.seq}`)).body.status).toEqual({
        total: 253,
        available: 253,
        lastAllocated: '10.20.0.2',
        allocated: {},
        allocatedHistory: { '10.20.0.2': 'ledger/x' },
      });
      expect((await asOf(`?seq=${A2.outcome.seq}`)).body.status).toEqual({
        total: 253,
        available: 252,
        lastAllocated: '10.20.0.3',
        allocated: { '10.20.0.3': 'ledger/y' },
        allocatedHistory: { '10.20.0.2': 'ledger/x' },
      });
    });

    it('?at=: the pool as of the last outcome at or before that time', async () => {
      const holders = await addressHolders();
      const at = holders[1].from.time; // the time of A3
      const r = await asOf(`?at=${at}`);
      expect(r.status).toBe(200);
      expect(r.body.asOfSeq).toBe(A3.outcome.seq);
      expect(r.body.status).toEqual({
        total: 253,
        available: 251,
        lastAllocated: '10.20.0.2',
        allocated: { '10.20.0.2': 'ledger/x', '10.20.0.3': 'ledger/y' },
        allocatedHistory: {},
      });
    });

    it('without ?at= or ?seq=: the pool now', async () => {
      const r = await asOf('');
      expect(r.status).toBe(200);
      expect(r.body.asOfSeq).toBe(last);
      expect(r.body.status).toEqual({
        total: 253,
        available: 252,
        lastAllocated: '10.20.0.2',
        allocated: { '10.20.0.2': 'ledger/x' },
        allocatedHistory: { '10.20.0.3': 'ledger/y' },
      });
      expect(r.body.status).toEqual((await http<PoolView>('GET', '/v1/pools/ledger')).body.status);
      // a sequence past the end of the stream means its last sequence, and says which that is
      const future = await asOf(`?seq=${last + 1000}`);
      expect(future.status).toBe(200);
      expect(future.body).toEqual(r.body);
    });

    it('before the pool existed: 404 UnknownPool', async () => {
      for (const query of [`?seq=${P.seq}`, '?at=2000-01-01T00:00:00Z']) {
        const r = await asOf(query);
        expect(r.status).toBe(404);
        expect(r.body).toEqual(problem(404, 'UnknownPool', expect.stringContaining('"ledger"')));
      }
    });

    it('a pool that never existed: 404; a deleted one is found as of before its deletion', async () => {
      expect((await http('GET', '/v1/audit/pools/never-was')).status).toBe(404);
      expect((await http('GET', '/v1/audit/pools/spare')).status).toBe(404);
      const before = await http<PoolView>('GET', `/v1/audit/pools/spare?seq=${spareDeletedSeq - 1}`);
      expect(before.status).toBe(200);
      expect(before.body.status).toMatchObject({
        total: 10,
        allocated: {},
        allocatedHistory: { '10.3.0.10': 'spare/x' },
      });
    });

    it('a name that is not a DNS-1123 name: 400', async () => {
      const r = await http<Problem>('GET', '/v1/audit/pools/Not_A_Name');
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BadRequest');
    });
  });

  describe('bad requests: 400 with what is wrong', () => {
    const endpoints = [
      '/v1/audit/addresses/10.20.0.2',
      '/v1/audit/loadbalancers/ledger/x',
      '/v1/audit/pools/ledger',
    ];
    const cases: Array<[string, string, RegExp]> = [
      ['?at= that is not a time', '?at=yesterday', /at must be an RFC 3339 time/],
      ['?at= a date without a time', '?at=2026-11-24', /at must be an RFC 3339 time/],
      ['?at= without an offset', '?at=2026-11-24T14:05:00', /at must be an RFC 3339 time/],
      ['?seq= that is not a number', '?seq=abc', /seq must be a whole number/],
      ['?seq=0', '?seq=0', /seq must be at least 1/],
      ['?seq= negative', '?seq=-3', /seq must be/],
      ['?seq= a fraction', '?seq=1.5', /seq must be a whole number/],
      ['both ?at= and ?seq=', '?at=2026-11-24T14:05:00Z&seq=3', /either at or seq, not both/],
    ];
    for (const endpoint of endpoints) {
      it.each(cases)(`${endpoint}: %s`, async (_what, query, reason) => {
        const r = await http<Problem>('GET', `${endpoint}${query}`);
        expect(r.status).toBe(400);
        expect(r.body).toEqual(problem(400, 'BadRequest', expect.stringMatching(reason)));
      });
    }

    it.each([
      ['an octet over 255', '10.20.0.256'],
      ['not an address', 'ledger-x'],
      ['a leading zero', '10.20.0.02'],
      ['an IPv4-mapped IPv6 address', '::ffff:10.20.0.2'],
      ['a zoned IPv6 address', 'fe80::1%eth0'],
    ])('an invalid address in the path (%s)', async (_what, ip) => {
      const r = await http<Problem>('GET', `/v1/audit/addresses/${encodeURIComponent(ip)}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual(problem(400, 'BadRequest', expect.stringContaining(ip)));
    });

    it('a load balancer name with a "/" in it', async () => {
      const r = await http<Problem>('GET', '/v1/audit/loadbalancers/ledger/x%2Fy');
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BadRequest');
    });
  });
});

describe('GET /healthz, /readyz, /metrics', () => {
  it('/healthz: 200, the process is alive', async () => {
    const r = await http('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('/readyz: 200 when connected and caught up with the stream', async () => {
    const last = await settled();
    const r = await http<Readiness>('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'ready',
      ready: true,
      connected: true,
      position: last,
      streamLastSeq: last,
      lag: 0,
      leader: true,
      live: true,
      deciding: true,
      decider: { present: true, holder: 'http-api-1', waiting: 0, waitingMs: 0 },
      lagGrowing: false,
      reason: null,
    });
  });

  it('/metrics: per pool total / available / allocated, as the pools report them', async () => {
    const r = await http<string>('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(r.text);
    const pools = (await http<{ items: PoolView[] }>('GET', '/v1/pools')).body.items;
    expect(pools.map((p) => p.metadata.name)).toEqual([
      'everyone',
      'ledger',
      'rke2-ip-pool',
      'web',
      'yaml-a',
      'yaml-b',
      'yaml-c',
    ]);
    for (const p of pools) {
      const name = p.metadata.name;
      expect([name, m.get(`ipam_pool_addresses{pool="${name}"}`)]).toEqual([name, p.status.total]);
      expect([name, m.get(`ipam_pool_available{pool="${name}"}`)]).toEqual([name, p.status.available]);
      expect([name, m.get(`ipam_pool_allocated{pool="${name}"}`)]).toEqual([
        name,
        Object.keys(p.status.allocated).length,
      ]);
    }
    expect(m.get('ipam_pool_allocated{pool="web"}')).toBe(4);
    expect(m.get('ipam_pool_available{pool="web"}')).toBe(249);
    // a deleted pool is no longer reported
    expect([...m.keys()].filter((k) => k.includes('pool="spare"'))).toEqual([]);
  });

  it('/metrics: outcomes by subject and code, the decision latency histogram, consumer lag', async () => {
    await settled();
    await f.audit.refresh();
    const fromStream: Record<string, number> = {};
    for (const o of f.audit.outcomes()) {
      const code = typeof o.body.code === 'string' ? o.body.code : '';
      const key = `ipam_outcomes_total{subject="${o.subject}",code="${code}"}`;
      fromStream[key] = (fromStream[key] ?? 0) + 1;
    }
    const m = parseMetrics((await http<string>('GET', '/metrics')).text);
    const fromMetrics = Object.fromEntries([...m].filter(([k]) => k.startsWith('ipam_outcomes_total{')));
    expect(fromMetrics).toEqual(fromStream);
    // a few of them, as this file produced them
    expect(fromMetrics['ipam_outcomes_total{subject="ipam.pool.rejected",code="RangeOverlap"}']).toBe(1);
    expect(fromMetrics['ipam_outcomes_total{subject="ipam.lb.rejected",code="NoMatchingPool"}']).toBe(1);
    expect(fromMetrics['ipam_outcomes_total{subject="ipam.ip.rejected",code="AddressNotAllocated"}']).toBe(2);
    const outcomes = f.audit.outcomes().length;
    expect(m.get('ipam_decision_seconds_count')).toBe(outcomes);
    expect(m.get('ipam_decision_seconds_bucket{le="+Inf"}')).toBe(outcomes);
    expect(m.get('ipam_decision_seconds_sum')).toBeGreaterThan(0);
    expect(m.get('ipam_consumer_lag_messages')).toBe(0);
    expect(m.get('ipam_leader')).toBe(1);
  });
});

describe('the OpenAPI document and page', () => {
  const document = async () => {
    const r = await http<OpenApiDocument & { info: { title: string } }>('GET', '/openapi.json');
    expect(r.status).toBe(200);
    return r.body;
  };
  type Op = {
    parameters?: Array<{ name: string; in: string }>;
    responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
    requestBody?: { content: Record<string, { schema?: Json }> };
  };
  const operations = (doc: OpenApiDocument) =>
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops as Record<string, Op>).map(([m, op]) => ({ key: `${m} ${p}`, op })),
    );

  it('is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('IPAM');
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("its components are the contract's JSON Schemas and HTTP's own shapes, and every reference resolves", async () => {
    const doc = await document();
    const names = Object.keys(doc.components.schemas);
    for (const name of Object.keys(SCHEMAS))
      expect([name, doc.components.schemas[name]]).toEqual([name, SCHEMAS[name]]);
    expect(names.filter((n) => !(n in SCHEMAS)).sort()).toEqual([
      'AddressTimelinePage',
      'AppliedPool',
      'Health',
      'LoadBalancerTimelinePage',
      'NotReadyProblem',
      'OutcomeTimeoutProblem',
      'PoolAsOf',
      'PoolPage',
      'Problem',
      'Readiness',
      'RejectionProblem',
    ]);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    expect(
      refs.filter((ref) => !(ref.replace('#/components/schemas/', '') in doc.components.schemas)),
    ).toEqual([]);
  });

  it('every operation answers JSON (or text) of a schema, and every error a problem', async () => {
    const doc = await document();
    for (const { key, op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      expect([key, statuses.some((s) => s.startsWith('2'))]).toEqual([key, true]);
      for (const [status, r] of Object.entries(op.responses)) {
        const content = Object.entries(r.content ?? {});
        expect([key, status, content.length > 0]).toEqual([key, status, true]);
        for (const [type, media] of content) {
          expect([key, status, type, media.schema !== undefined]).toEqual([key, status, type, true]);
          if (Number(status) >= 400) {
            expect([key, status, type, String(media.schema?.$ref)]).toEqual([
              key,
              status,
              'application/problem+json',
              expect.stringMatching(/^#\/components\/schemas\/(\w+)?Problem$/),
            ]);
          }
        }
      }
    }
  });

  it('describes each endpoint of this file, every status it answers, and the body of each', async () => {
    const doc = await document();
    const methods = Object.fromEntries(
      Object.entries(doc.paths).map(([p, ops]) => [p, Object.keys(ops).sort()]),
    );
    expect(methods).toMatchObject({
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/metrics': ['get'],
      '/v1/pools': ['get'],
      '/v1/pools/{name}': ['delete', 'get', 'put'],
      '/v1/addresses/{ip}/release': ['post'],
      '/v1/loadbalancers/{namespace}/{name}': ['delete', 'get', 'put'],
      '/v1/audit/addresses/{ip}': ['get'],
      '/v1/audit/loadbalancers/{namespace}/{name}': ['get'],
      '/v1/audit/pools/{name}': ['get'],
    });
    // every answer an operation gives is documented (a 500 aside), with its schema
    const responses = Object.fromEntries(
      operations(doc).map(({ key, op }) => [
        key,
        Object.entries(op.responses)
          .map(
            ([status, r]) =>
              `${status} ${Object.entries(r.content ?? {})
                .map(
                  ([t, m]) =>
                    `${t} ${String(m.schema?.$ref ?? m.schema?.type).replace('#/components/schemas/', '')}`,
                )
                .join(', ')}`,
          )
          .sort(),
      ]),
    );
    const problems = (...statuses: number[]) =>
      statuses.map(
        (s) =>
          `${s} application/problem+json ${s === 422 ? 'RejectionProblem' : s === 504 ? 'OutcomeTimeoutProblem' : 'Problem'}`,
      );
    const json = (status: number, schema: string) => `${status} application/json ${schema}`;
    // other files' endpoints aside; every operation but the health probes answers 401 and 403 too
    // (when HTTP authentication is configured: test/service/auth.spec.ts)
    expect(responses).toMatchObject({
      'get /healthz': [json(200, 'Health')],
      'get /readyz': [json(200, 'Readiness'), '503 application/problem+json NotReadyProblem'],
      'get /metrics': ['200 text/plain string', ...problems(401, 403)],
      'get /v1/pools': [json(200, 'PoolPage'), ...problems(400, 401, 403, 503)],
      'get /v1/pools/{name}': [json(200, 'PoolView'), ...problems(400, 401, 403, 404)],
      'put /v1/pools/{name}': [
        json(200, 'AppliedPool'),
        json(201, 'AppliedPool'),
        ...problems(400, 401, 403, 412, 413, 415, 422, 503, 504),
      ],
      'delete /v1/pools/{name}': [
        json(200, 'PoolAccepted'),
        ...problems(400, 401, 403, 404, 412, 422, 503, 504),
      ],
      'post /v1/addresses/{ip}/release': [json(200, 'IPReleased'), ...problems(400, 401, 403, 422, 503, 504)],
      'get /v1/loadbalancers/{namespace}/{name}': [
        json(200, 'LoadBalancerView'),
        ...problems(400, 401, 403, 404),
      ],
      'put /v1/loadbalancers/{namespace}/{name}': [
        json(200, 'IPAllocated'),
        ...problems(400, 401, 403, 413, 415, 422, 503, 504),
      ],
      'delete /v1/loadbalancers/{namespace}/{name}': [
        json(200, 'IPReleased'),
        ...problems(400, 401, 403, 404, 422, 503, 504),
      ],
      'get /v1/audit/addresses/{ip}': [json(200, 'AddressTimelinePage'), ...problems(400, 401, 403)],
      'get /v1/audit/loadbalancers/{namespace}/{name}': [
        json(200, 'LoadBalancerTimelinePage'),
        ...problems(400, 401, 403),
      ],
      'get /v1/audit/pools/{name}': [json(200, 'PoolAsOf'), ...problems(400, 401, 403, 404, 503)],
    });
    // request bodies: the contract's IPPool (JSON or YAML) and LoadBalancer
    const bodies = Object.fromEntries(
      operations(doc)
        .filter(({ op }) => op.requestBody)
        .map(({ key, op }) => [
          key,
          Object.entries(op.requestBody?.content ?? {}).map(([t, m]) => `${t} ${String(m.schema?.$ref)}`),
        ]),
    );
    expect(bodies).toEqual({
      'put /v1/pools/{name}': [
        'application/json #/components/schemas/IPPool',
        'application/yaml #/components/schemas/IPPool',
      ],
      'put /v1/loadbalancers/{namespace}/{name}': ['application/json #/components/schemas/LoadBalancer'],
    });
    const queryOf = (key: string) => {
      const op = operations(doc).find((o) => o.key === key)?.op;
      return (op?.parameters ?? [])
        .filter((x) => x.in === 'query')
        .map((x) => x.name)
        .sort();
    };
    expect(queryOf('get /v1/pools')).toEqual(['continue', 'limit']);
    expect(queryOf('post /v1/addresses/{ip}/release')).toEqual(['dryRun', 'pool']);
    expect(queryOf('get /v1/audit/addresses/{ip}')).toEqual(['at', 'continue', 'limit', 'seq']);
    expect(queryOf('get /v1/audit/loadbalancers/{namespace}/{name}')).toEqual([
      'at',
      'continue',
      'limit',
      'seq',
    ]);
    expect(queryOf('get /v1/audit/pools/{name}')).toEqual(['at', 'seq']);
  });

  it('GET /docs: the page showing that document', async () => {
    const page = await http<string>('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>Swagger UI</title>');
    const init = await http<string>('GET', '/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('/v1/audit/pools/{name}');
  });

  it('an unknown path, or a method a path does not take: 404 NotFound problem', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nothing-here'],
      ['POST', '/v1/pools'],
      ['PATCH', '/v1/pools/web'],
    ]) {
      const r = await http(method, path);
      expect([method, path, r.status, r.contentType]).toEqual([
        method,
        path,
        404,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect(r.body).toEqual(problem(404, 'NotFound', `no route answers ${method} ${path}`));
    }
  });
});

describe('readiness without NATS', () => {
  it('/readyz: 503 while the NATS server is down, /healthz still 200, writes 503 Unavailable at once; ready again once it is back', async () => {
    const before = await f.audit.lastSeq();
    await f.nats.kill9();
    try {
      // the client notices the lost connection (at once here: the socket closes)
      await waitFor(
        '/readyz to say not connected',
        async () => (await http<Readiness>('GET', '/readyz')).body.connected === false,
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      const t0 = performance.now();
      const r = await http<Readiness>('GET', '/readyz');
      // answered at once, well inside a probe's timeout: no stream request waits for a dead server
      expect(performance.now() - t0).toBeLessThan(3_000);
      expect(r.status).toBe(503);
      expect(r.body).toEqual(
        problem(503, 'NotReady', expect.stringContaining('not connected to NATS'), {
          ready: false,
          connected: false,
          position: expect.any(Number),
          streamLastSeq: null,
          lag: null,
          leader: expect.any(Boolean),
          deciding: expect.any(Boolean),
          decider: expect.any(Object),
          lagGrowing: false,
          reason: expect.stringContaining('not connected to NATS'),
        }),
      );
      expect((await http('GET', '/healthz')).status).toBe(200);
      // a write cannot be published: said at once, not after a timeout, and not a 500
      const t1 = performance.now();
      const put = await http('PUT', '/v1/pools/outage', {
        json: { spec: { ranges: [{ subnet: '10.99.0.0/24' }] } },
      });
      expect(performance.now() - t1).toBeLessThan(3_000);
      expect(put.status).toBe(503);
      expect(put.body).toEqual(problem(503, 'Unavailable', expect.stringContaining('nothing was published')));
    } finally {
      await f.nats.restart();
    }
    await waitFor('/readyz to answer 200 again', async () => (await http('GET', '/readyz')).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(await f.audit.lastSeq()).toBe(before);
    expect((await http('GET', '/v1/pools/outage')).status).toBe(404);
  }, 30_000);
});
