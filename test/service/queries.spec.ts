/**
 * Queries over NATS request/reply (ipam.query.pools, ipam.query.pool, ipam.query.lb): answers from the
 * folded state, errors as {error: {code, reason}}, bad request bodies, and nothing stored in the stream.
 */
import { serviceFixture, type ServiceFixture } from '../support/service-fixture.js';
import { DOC_EXAMPLES, lbRef, loadBalancer, RKE2_ANNOTATIONS } from './doc-examples.js';

const STREAM = 'IPAM_QUERIES';

let f: ServiceFixture;

const send = async (subject: string, body: unknown) => (await f.publish(subject, body)).outcome;
const query = <T = Record<string, unknown>>(subject: string, body: unknown): Promise<T> =>
  f.query<T>(subject, body);

interface PoolView {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { ranges: Array<{ subnet: string }> };
  status: {
    total: number;
    available: number;
    lastAllocated: string;
    allocated: Record<string, string>;
    allocatedHistory: Record<string, string>;
  };
}

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'queries');
  for (const pool of DOC_EXAMPLES)
    expect((await send('ipam.pool.created', pool)).subject).toBe('ipam.pool.accepted');
  // default-ip-pool-2: a .2, b .3, c .4; a released -> history; rke2: one holder
  for (const name of ['lb-a', 'lb-b', 'lb-c']) {
    expect((await send('ipam.lb.requested', loadBalancer('default', name))).subject).toBe(
      'ipam.ip.allocated',
    );
  }
  expect((await send('ipam.lb.deleted', lbRef('default', 'lb-a'))).subject).toBe('ipam.ip.released');
  expect((await send('ipam.lb.requested', loadBalancer('default', 'guest', RKE2_ANNOTATIONS))).subject).toBe(
    'ipam.ip.allocated',
  );
}, 30_000);

afterAll(() => f?.stop());

describe('ipam.query.pools', () => {
  it('lists every pool with its status', async () => {
    const r = await query<{ items: PoolView[] }>('ipam.query.pools', {});
    expect(r.items.map((p) => p.metadata.name).sort()).toEqual([
      'default-ip-pool',
      'default-ip-pool-2',
      'global-ip-pool',
      'rke2-ip-pool',
    ]);
    for (const p of r.items) {
      expect(p.kind).toBe('IPPool');
      expect(p.status).toEqual(
        expect.objectContaining({
          total: expect.any(Number),
          available: expect.any(Number),
          lastAllocated: expect.any(String),
          allocated: expect.any(Object),
          allocatedHistory: expect.any(Object),
        }),
      );
    }
    const byName = new Map(r.items.map((p) => [p.metadata.name, p]));
    expect(byName.get('default-ip-pool')?.status).toMatchObject({
      total: 253,
      available: 253,
      allocated: {},
    });
    expect(byName.get('global-ip-pool')?.status).toMatchObject({
      total: 253,
      available: 253,
      lastAllocated: '',
    });
    expect(byName.get('rke2-ip-pool')?.status).toMatchObject({
      total: 11,
      available: 10,
      lastAllocated: '192.168.10.10',
      allocated: { '192.168.10.10': 'default/guest' },
    });
  });

  it('ignores its request body (any body gets the list)', async () => {
    const r = await query<{ items: PoolView[] }>('ipam.query.pools', 'not json');
    expect(r.items).toHaveLength(4);
  });
});

describe('ipam.query.pool', () => {
  it('answers the pool with status total/available/lastAllocated/allocated/allocatedHistory', async () => {
    const p = await query<PoolView>('ipam.query.pool', { name: 'default-ip-pool-2' });
    expect(p.metadata.name).toBe('default-ip-pool-2');
    expect(p.kind).toBe('IPPool');
    expect(p.spec.ranges[0].subnet).toBe('192.168.200.0/24');
    expect(p.status).toEqual({
      total: 253,
      available: 251,
      lastAllocated: '192.168.200.4',
      allocated: { '192.168.200.3': 'default/lb-b', '192.168.200.4': 'default/lb-c' },
      allocatedHistory: { '192.168.200.2': 'default/lb-a' },
    });
  });

  it('follows new outcomes: a returning load balancer takes its history entry back', async () => {
    const o = await send('ipam.lb.requested', loadBalancer('default', 'lb-a'));
    expect(o.body).toMatchObject({ ip: '192.168.200.2', fromHistory: true });
    const p = await query<PoolView>('ipam.query.pool', { name: 'default-ip-pool-2' });
    expect(p.status.available).toBe(250);
    expect(p.status.allocated['192.168.200.2']).toBe('default/lb-a');
    expect(p.status.allocatedHistory).toEqual({});
    expect(p.status.lastAllocated).toBe('192.168.200.2');
  });

  it('an unknown pool -> {error: {code: UnknownPool, reason}}', async () => {
    const r = await query<{ error: { code: string; reason: string } }>('ipam.query.pool', { name: 'nope' });
    expect(r).toEqual({ error: { code: 'UnknownPool', reason: expect.stringContaining('nope') } });
  });

  it.each([
    ['not JSON', '{nope'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"default-ip-pool"'],
    ['no name', '{}'],
    ['name not a string', '{"name": 7}'],
    ['empty', ''],
  ])('a bad request body (%s) -> an error with code and reason', async (_what, body) => {
    const r = await query<{ error: { code: string; reason: string } }>('ipam.query.pool', body);
    expect(r.error).toEqual({ code: 'InvalidRequest', reason: expect.any(String) });
    expect(r.error.reason.length).toBeGreaterThan(5);
  });
});

describe('ipam.query.lb', () => {
  it('a holder -> its current address', async () => {
    const r = await query('ipam.query.lb', { namespace: 'default', name: 'lb-b' });
    expect(r).toMatchObject({
      loadBalancer: 'default/lb-b',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.3',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '192.168.200.1',
    });
    const guest = await query('ipam.query.lb', { namespace: 'default', name: 'guest' });
    expect(guest).toMatchObject({
      loadBalancer: 'default/guest',
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.10',
    });
  });

  it('a released load balancer and one never seen -> an error', async () => {
    expect((await send('ipam.lb.deleted', lbRef('default', 'lb-c'))).subject).toBe('ipam.ip.released');
    for (const name of ['lb-c', 'never-seen']) {
      const r = await query<{ error: { code: string; reason: string } }>('ipam.query.lb', {
        namespace: 'default',
        name,
      });
      expect(r).toEqual({ error: { code: 'UnknownLoadBalancer', reason: expect.stringContaining(name) } });
    }
  });

  it.each([
    ['not JSON', 'default/lb-b'],
    ['no namespace', '{"name": "lb-b"}'],
    ['no name', '{"namespace": "default"}'],
    ['a JSON array', '["default", "lb-b"]'],
  ])('a bad request body (%s) -> InvalidRequest', async (_what, body) => {
    const r = await query<{ error: { code: string; reason: string } }>('ipam.query.lb', body);
    expect(r.error).toEqual({ code: 'InvalidRequest', reason: expect.any(String) });
  });
});

describe('queries are not stored', () => {
  it('leave the stream as it was, and every input still has exactly one outcome', async () => {
    await f.audit.waitUntilAllAnswered();
    const before = await f.audit.lastSeq();
    await query('ipam.query.pools', {});
    await query('ipam.query.pool', { name: 'default-ip-pool-2' });
    await query('ipam.query.lb', { namespace: 'default', name: 'lb-b' });
    await query('ipam.query.pool', 'garbage');
    expect(await f.audit.lastSeq()).toBe(before);
    f.audit.assertExactlyOnce();
    expect(f.audit.foldHoldings().violations).toEqual([]);
  });
});
