/**
 * Dual-stack (spec.ipFamilies) over the real server: one address per family in one outcome
 * (`addresses`), FamilyUnavailable with nothing allocated, release of both, ipam.query.lb showing both;
 * every body checked against the schemas.
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
import { schemaErrors } from '../support/wire-schemas.js';

const STREAM = 'IPAM_DUAL_STACK';

let f: ServiceFixture;

/** every outcome and pool status checked against the contract's schemas */
const send = (subject: string, body: unknown) => sendChecked(f, subject, body);
const poolStatus = (name: string) => poolStatusChecked(f, name);

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'dual');
}, 30_000);

afterAll(() => f?.stop());

describe('dual-stack over the wire', () => {
  it('both families: the first in the usual fields, every address in addresses; LBDeleted releases both', async () => {
    await send(
      'ipam.pool.created',
      ipPool('ds-a', {
        ranges: [{ subnet: '10.40.0.0/24' }, { subnet: 'fd40::/120' }],
        selector: scope('ds-a'),
      }),
    );
    const got = await send('ipam.lb.requested', lb('ds-a', 'web', { ipFamilies: ['IPv6', 'IPv4'] }));
    expect(got.subject).toBe('ipam.ip.allocated');
    expect(got.body).toMatchObject({
      loadBalancer: 'ds-a/web',
      ipPool: 'ds-a',
      ip: 'fd40::2',
      prefixLength: 120,
      addresses: [
        { ip: 'fd40::2', ipPool: 'ds-a', prefixLength: 120, gateway: 'fd40::1', fromHistory: false },
        { ip: '10.40.0.2', ipPool: 'ds-a', mask: '255.255.255.0', gateway: '10.40.0.1', fromHistory: false },
      ],
    });
    const reply = await f.nc.request('ipam.query.lb', JSON.stringify({ namespace: 'ds-a', name: 'web' }), {
      timeout: 5000,
    });
    const view = reply.json<Record<string, unknown>>();
    expect(schemaErrors('LoadBalancerView', view)).toEqual([]);
    expect((view.addresses as Array<{ ip: string }>).map((a) => a.ip)).toEqual(['fd40::2', '10.40.0.2']);

    const released = await send('ipam.lb.deleted', { metadata: { namespace: 'ds-a', name: 'web' } });
    expect(released.body).toMatchObject({
      loadBalancer: 'ds-a/web',
      ip: 'fd40::2',
      addresses: [
        { ip: 'fd40::2', ipPool: 'ds-a' },
        { ip: '10.40.0.2', ipPool: 'ds-a' },
      ],
    });
    const pool = await poolStatus('ds-a');
    expect(pool.status).toMatchObject({
      allocated: {},
      allocatedHistory: { 'fd40::2': 'ds-a/web', '10.40.0.2': 'ds-a/web' },
    });
  });

  it('a family no pool serves: FamilyUnavailable naming it, and nothing allocated', async () => {
    await send(
      'ipam.pool.created',
      ipPool('ds-b', { ranges: [{ subnet: '10.41.0.0/24' }], selector: scope('ds-b') }),
    );
    const r = await send('ipam.lb.requested', lb('ds-b', 'web', { ipFamilies: ['IPv4', 'IPv6'] }));
    expect(r.subject).toBe('ipam.lb.rejected');
    expect(r.body).toMatchObject({ loadBalancer: 'ds-b/web', code: 'FamilyUnavailable' });
    expect(String(r.body.reason)).toMatch(/^IPv6: /);
    const pool = await poolStatus('ds-b');
    expect(pool.status).toMatchObject({ available: 253, allocated: {} });
  });
});
