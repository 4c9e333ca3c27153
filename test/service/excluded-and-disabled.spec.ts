/**
 * Excluded addresses (a range's `exclude`) and disabled pools (`spec.autoAssign: false`) over the real
 * server: pools and load balancers published into the stream, outcomes read back, statuses queried, and
 * every body checked against the contract's JSON Schemas. Each test uses pools and addresses of its own.
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

const STREAM = 'IPAM_EXCLUDE_DISABLED';

let f: ServiceFixture;

/** every outcome and pool status checked against the contract's schemas */
const send = (subject: string, body: unknown) => sendChecked(f, subject, body);
const poolStatus = (name: string) => poolStatusChecked(f, name);

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'exclude-disabled');
}, 30_000);

afterAll(() => f?.stop());

describe('excluded addresses over the wire', () => {
  it('are never allocated, not counted, listed in status; the accepted spec carries exclude without a warning', async () => {
    const accepted = await send(
      'ipam.pool.created',
      ipPool('ex-a', {
        ranges: [{ subnet: '10.10.0.0/29', exclude: ['10.10.0.2', '10.10.0.4-10.10.0.5'] }],
        selector: scope('ex-a'),
      }),
    );
    expect(accepted.subject).toBe('ipam.pool.accepted');
    expect(accepted.body.spec).toMatchObject({
      ranges: [{ subnet: '10.10.0.0/29', exclude: ['10.10.0.2', '10.10.0.4-10.10.0.5'] }],
    });
    expect(accepted.body.warnings).toBeUndefined();

    // .1 gateway, .2 .4 .5 excluded: .3 and .6 remain
    const first = await send('ipam.lb.requested', lb('ex-a', 'one'));
    const second = await send('ipam.lb.requested', lb('ex-a', 'two'));
    const third = await send('ipam.lb.requested', lb('ex-a', 'three'));
    expect([first.body.ip, second.body.ip]).toEqual(['10.10.0.3', '10.10.0.6']);
    expect(third.body).toMatchObject({ code: 'PoolExhausted' });

    const view = await poolStatus('ex-a');
    expect(view.status).toMatchObject({
      total: 2,
      available: 0,
      excluded: ['10.10.0.2', '10.10.0.4-10.10.0.5'],
    });
  });

  it('a bad entry is InvalidRange naming it; an update excluding a held address is ExcludesAllocated', async () => {
    const bad = await send(
      'ipam.pool.created',
      ipPool('ex-b', {
        ranges: [{ subnet: '10.11.0.0/24', exclude: ['10.12.0.1'] }],
        selector: scope('ex-b'),
      }),
    );
    expect(bad.subject).toBe('ipam.pool.rejected');
    expect(bad.body).toMatchObject({ name: 'ex-b', code: 'InvalidRange' });
    expect(String(bad.body.reason)).toContain(
      'spec.ranges[0].exclude[0] "10.12.0.1" is not inside the subnet',
    );

    await send(
      'ipam.pool.created',
      ipPool('ex-b', { ranges: [{ subnet: '10.11.0.0/24' }], selector: scope('ex-b') }),
    );
    const held = await send('ipam.lb.requested', lb('ex-b', 'holder'));
    expect(held.body.ip).toBe('10.11.0.2');
    const update = await send(
      'ipam.pool.updated',
      ipPool('ex-b', {
        ranges: [{ subnet: '10.11.0.0/24', exclude: ['10.11.0.0/28'] }],
        selector: scope('ex-b'),
      }),
    );
    expect(update.subject).toBe('ipam.pool.rejected');
    expect(update.body).toMatchObject({ name: 'ex-b', code: 'ExcludesAllocated' });
    expect(String(update.body.reason)).toContain('10.11.0.2 is allocated to ex-b/holder');
  });
});

describe('disabled pools over the wire', () => {
  it('selection passes a disabled pool over; spec.ipPool or spec.ip of it still gets an address from it', async () => {
    const disabled = await send(
      'ipam.pool.created',
      ipPool('off-a', {
        ranges: [{ subnet: '10.20.0.0/24' }],
        selector: { ...scope('off-a'), priority: 7 },
        autoAssign: false,
      }),
    );
    expect(disabled.body.spec).toMatchObject({ autoAssign: false });
    expect(disabled.body.warnings).toBeUndefined();

    const none = await send('ipam.lb.requested', lb('off-a', 'auto'));
    expect(none.subject).toBe('ipam.lb.rejected');
    expect(none.body).toMatchObject({ loadBalancer: 'off-a/auto', code: 'NoMatchingPool' });

    const named = await send('ipam.lb.requested', lb('off-a', 'named', { ipPool: 'off-a' }));
    expect(named.body).toMatchObject({ loadBalancer: 'off-a/named', ipPool: 'off-a', ip: '10.20.0.2' });
    const byAddress = await send('ipam.lb.requested', lb('off-a', 'by-address', { ip: '10.20.0.50' }));
    expect(byAddress.body).toMatchObject({ ipPool: 'off-a', ip: '10.20.0.50' });

    const view = await poolStatus('off-a');
    expect(view.spec).toMatchObject({ autoAssign: false });
    expect(view.status).toMatchObject({
      allocated: { '10.20.0.2': 'off-a/named', '10.20.0.50': 'off-a/by-address' },
    });
  });

  it('an enabled pool is written without autoAssign, so its outcome reads as before the field existed', async () => {
    const on = await send(
      'ipam.pool.created',
      ipPool('on-a', { ranges: [{ subnet: '10.21.0.0/24' }], selector: scope('on-a'), autoAssign: true }),
    );
    expect(on.subject).toBe('ipam.pool.accepted');
    expect(Object.keys(on.body.spec as object)).toEqual(['ranges', 'selector']);
  });
});
