/**
 * docs/semantics.md, unknown fields: end to end against a real nats-server and the service in-process.
 * A pool with fields the service does not know (Harvester's test suites put `type: range` on ranges) is
 * accepted; each dropped field is named in the `warnings` of its ipam.pool.accepted, and in the answer
 * of `PUT /v1/pools/{name}`. A pool without unknown fields gets an outcome without `warnings`.
 */
import { serviceFixture, type ServiceFixture } from '../support/service-fixture.js';

const STREAM = 'IPAM_UNKNOWN_FIELDS';

let f: ServiceFixture;

const send = (subject: string, body: unknown) => f.publish(subject, body);

async function put(
  name: string,
  body: string,
  type: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${f.service.httpUrl}/v1/pools/${name}`, {
    method: 'PUT',
    headers: { 'content-type': type },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const dropped = (path: string) => `unknown field "${path}" was dropped`;

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'unknown-fields');
}, 30_000);

afterAll(() => f?.stop());

describe('unknown fields of a pool over NATS', () => {
  it('a PoolCreated with `type: range` on a range and an unknown scope key is accepted, with a warning for each', async () => {
    const s = await send('ipam.pool.created', {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name: 'harvester-test' },
      spec: {
        ranges: [{ type: 'range', subnet: '10.60.0.0/24', rangeStart: '10.60.0.10', rangeEnd: '10.60.0.20' }],
        selector: { scope: [{ namespace: 'harvester', team: 'blue' }] },
      },
    });
    expect(s.outcome.subject).toBe('ipam.pool.accepted');
    expect(s.outcome.body).toEqual({
      name: 'harvester-test',
      change: 'created',
      spec: {
        ranges: [{ subnet: '10.60.0.0/24', rangeStart: '10.60.0.10', rangeEnd: '10.60.0.20' }],
        selector: { priority: 0, scope: [{ project: '', namespace: 'harvester', guestCluster: '' }] },
      },
      warnings: [dropped('spec.ranges[0].type'), dropped('spec.selector.scope[0].team')],
      causationSeq: s.seq,
      causationId: s.id,
    });
    // the pool serves as if the fields had never been there
    const lb = await send('ipam.lb.requested', { metadata: { namespace: 'harvester', name: 'web' } });
    expect(lb.outcome.subject).toBe('ipam.ip.allocated');
    expect(lb.outcome.body).toMatchObject({ ipPool: 'harvester-test', ip: '10.60.0.10' });
  });

  it('a pool with only known fields, standard metadata and a status gets an outcome without warnings', async () => {
    const s = await send('ipam.pool.created', {
      kind: 'IPPool',
      metadata: { name: 'plain', labels: { team: 'a' }, uid: 'u-1', resourceVersion: '7' },
      spec: { ranges: [{ subnet: '10.61.0.0/24' }], selector: { scope: { namespace: 'plain' } } },
      status: { total: 253, available: 253 },
    });
    expect(s.outcome.subject).toBe('ipam.pool.accepted');
    expect(new TextDecoder().decode(s.outcome.data)).not.toContain('warnings');
    expect(Object.keys(s.outcome.body)).toEqual(['name', 'change', 'spec', 'causationSeq', 'causationId']);
  });
});

describe('unknown fields of a pool over HTTP', () => {
  it('PUT /v1/pools/{name} answers the dropped fields in a top-level warnings array', async () => {
    const yaml = [
      'apiVersion: loadbalancer.harvesterhci.io/v1beta1',
      'kind: IPPool',
      'metadata:',
      '  name: http-test',
      'spec:',
      '  ranges:',
      '  - type: cidr',
      '    subnet: 10.62.0.0/24',
      '  selector:',
      '    scope:',
      '      namespace: http-test',
      '      team: blue',
      '',
    ].join('\n');
    const r = await put('http-test', yaml, 'application/yaml');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      metadata: { name: 'http-test' },
      spec: { ranges: [{ subnet: '10.62.0.0/24' }] },
    });
    expect(r.body.warnings).toEqual([dropped('spec.ranges[0].type'), dropped('spec.selector.scope.team')]);
  });

  it('an answer without dropped fields has no warnings', async () => {
    const r = await put(
      'http-test',
      JSON.stringify({
        spec: {
          description: 'known fields only',
          ranges: [{ subnet: '10.62.0.0/24' }],
          selector: { scope: { namespace: 'http-test' } },
        },
      }),
      'application/json',
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ spec: { description: 'known fields only' } });
    expect(r.body).not.toHaveProperty('warnings');
  });

  it('every input got exactly one outcome', async () => {
    await f.audit.waitUntilAllAnswered();
    f.audit.assertExactlyOnce();
  });
});
