/**
 * Shared addresses (spec.sharingKey) over the real server: a first and a later holder of one key, the
 * later one refused where the key's pool does not serve it, releases with stillSharedBy, the pool status
 * and the audit timeline of the address showing each holder; every body checked against the schemas.
 */
import {
  ipPool,
  lb,
  poolStatusChecked,
  scope,
  sendChecked,
  serviceFixture,
  type ServiceFixture,
} from '../support/service-fixture.js';

const STREAM = 'IPAM_SHARING';

let f: ServiceFixture;

/** every outcome and pool status checked against the contract's schemas */
const send = (subject: string, body: unknown) => sendChecked(f, subject, body);
const poolStatus = (name: string) => poolStatusChecked(f, name);

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'sharing');
}, 30_000);

afterAll(() => f?.stop());

async function audit_(ip: string): Promise<{ holders: Array<{ loadBalancer: string; to: unknown }> }> {
  const reply = await f.nc.request('ipam.query.audit.address', JSON.stringify({ ip }), { timeout: 5000 });
  return reply.json();
}

describe('shared addresses over the wire', () => {
  it('same namespace and key: one address, sharedWith; released only with its last holder; the timeline shows each', async () => {
    await send(
      'ipam.pool.created',
      ipPool('share-a', { ranges: [{ subnet: '10.30.0.0/24' }], selector: scope('share-a') }),
    );
    const web = await send('ipam.lb.requested', lb('share-a', 'web', { sharingKey: 'front' }));
    expect(web.body).toMatchObject({ ip: '10.30.0.2', sharingKey: 'front' });
    expect(web.body.sharedWith).toBeUndefined();
    const dns = await send('ipam.lb.requested', lb('share-a', 'dns', { sharingKey: 'front' }));
    expect(dns.subject).toBe('ipam.ip.allocated');
    expect(dns.body).toMatchObject({
      loadBalancer: 'share-a/dns',
      ip: '10.30.0.2',
      sharedWith: ['share-a/web'],
    });

    let view = await poolStatus('share-a');
    expect(view.status).toMatchObject({
      available: 252,
      allocated: { '10.30.0.2': 'share-a/web' },
      shared: { '10.30.0.2': ['share-a/web', 'share-a/dns'] },
    });

    const first = await send('ipam.lb.deleted', { metadata: { namespace: 'share-a', name: 'web' } });
    expect(first.body).toMatchObject({
      loadBalancer: 'share-a/web',
      ip: '10.30.0.2',
      stillSharedBy: ['share-a/dns'],
    });
    const last = await send('ipam.lb.deleted', { metadata: { namespace: 'share-a', name: 'dns' } });
    expect(last.body).toMatchObject({ loadBalancer: 'share-a/dns', ip: '10.30.0.2' });
    expect(last.body.stillSharedBy).toBeUndefined();
    view = await poolStatus('share-a');
    expect(view.status).toMatchObject({
      available: 253,
      allocated: {},
      allocatedHistory: { '10.30.0.2': 'share-a/dns' },
    });

    const timeline = await audit_('10.30.0.2');
    expect(timeline.holders.map((h) => h.loadBalancer)).toEqual(['share-a/web', 'share-a/dns']);
    expect(timeline.holders.every((h) => h.to !== null)).toBe(true);
  });

  it('a later holder the key pool does not serve: SharingKeyConflict; another namespace gets its own address', async () => {
    await send(
      'ipam.pool.created',
      ipPool('share-b', { ranges: [{ subnet: '10.31.0.0/24' }], selector: scope('share-b') }),
    );
    await send('ipam.lb.requested', lb('share-b', 'one', { sharingKey: 'k' }));
    const conflict = await send('ipam.lb.requested', {
      metadata: {
        namespace: 'share-b',
        name: 'two',
        annotations: { 'loadbalancer.harvesterhci.io/namespace': 'elsewhere' },
      },
      spec: { sharingKey: 'k' },
    });
    expect(conflict.subject).toBe('ipam.lb.rejected');
    expect(conflict.body).toMatchObject({ loadBalancer: 'share-b/two', code: 'SharingKeyConflict' });
    const other = await send('ipam.lb.requested', lb('share-b', 'three', { sharingKey: 'other-key' }));
    expect(other.body).toMatchObject({ ip: '10.31.0.3' });
  });
});
