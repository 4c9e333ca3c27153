/**
 * semantics.md section 5, shared addresses: load balancers of one namespace with the same
 * spec.sharingKey hold one address; later holders get it (sharedWith) where their pool serves them, or
 * SharingKeyConflict; the address goes back to the pool only with its last holder (stillSharedBy).
 */
import { globalPool, pool, World } from './support.js';

const NS_A = { scope: [{ project: '*', namespace: 'a', guestCluster: '*' }] };

function world(): World {
  return new World().mustCreate(globalPool('g', '10.0.0.0/24'));
}

describe('shared addresses', () => {
  it('the first is allocated as today (with its sharingKey); a later one gets the same address, sharedWith the first', () => {
    const w = world();
    const first = w.allocate('a/web', { sharingKey: 'k' });
    expect(first).toMatchObject({ ip: '10.0.0.2', sharingKey: 'k' });
    expect('sharedWith' in first).toBe(false);
    expect(w.allocate('a/dns', { sharingKey: 'k' })).toMatchObject({
      ip: '10.0.0.2',
      ipPool: 'g',
      fromHistory: false,
      sharingKey: 'k',
      sharedWith: ['a/web'],
    });
    expect(w.allocate('a/ssh', { sharingKey: 'k' })).toMatchObject({ sharedWith: ['a/web', 'a/dns'] });
    expect(w.status('g')).toMatchObject({
      total: 253,
      available: 252,
      allocated: { '10.0.0.2': 'a/web' },
      shared: { '10.0.0.2': ['a/web', 'a/dns', 'a/ssh'] },
    });
  });

  it('the same key in another namespace, or another key, is another address', () => {
    const w = world();
    expect(w.ip('a/web', { sharingKey: 'k' })).toBe('10.0.0.2');
    expect(w.ip('b/web', { sharingKey: 'k' })).toBe('10.0.0.3');
    expect(w.ip('a/other', { sharingKey: 'k2' })).toBe('10.0.0.4');
  });

  it('a later holder whose own selection picks another pool still gets the key address, when that pool serves it', () => {
    const w = world().mustCreate(pool('a-pool', '10.1.0.0/24', { ...NS_A, priority: 5 }));
    // a/first names the global pool
    expect(w.allocate('a/first', { sharingKey: 'k', ipPool: 'g' })).toMatchObject({ ip: '10.0.0.2' });
    // a/later would be given a-pool, but g (global) serves it too
    expect(w.allocate('a/later', { sharingKey: 'k' })).toMatchObject({ ipPool: 'g', ip: '10.0.0.2' });
  });

  it('a pool that does not serve the later holder: SharingKeyConflict, nothing allocated', () => {
    const w = new World()
      .mustCreate(pool('a-pool', '10.1.0.0/24', NS_A))
      .mustCreate(globalPool('g', '10.0.0.0/24'));
    expect(w.ip('a/first', { sharingKey: 'k' })).toBe('10.1.0.2');
    // same namespace, but its annotation asks for namespace "z", which a-pool does not serve
    const r = w.requestRejected('a/later', { sharingKey: 'k', namespace: 'z' });
    expect(r.code).toBe('SharingKeyConflict');
    expect(r.reason).toContain('pool "a-pool" does not serve');
    expect(w.state.loadBalancers.get('a/later')?.pool ?? null).toBeNull();
    // naming the pool makes it serve
    expect(w.allocate('a/later', { sharingKey: 'k', namespace: 'z', ipPool: 'a-pool' })).toMatchObject({
      ip: '10.1.0.2',
    });
  });

  it('spec.ip of the key address is allowed; another spec.ip or another spec.ipPool is SharingKeyConflict', () => {
    const w = world().mustCreate(pool('h', '10.9.0.0/24', NS_A));
    w.ip('a/first', { sharingKey: 'k', ipPool: 'g' });
    expect(w.allocate('a/by-ip', { sharingKey: 'k', ip: '10.0.0.2' })).toMatchObject({ ip: '10.0.0.2' });
    expect(w.requestRejected('a/x', { sharingKey: 'k', ip: '10.0.0.9' }).code).toBe('SharingKeyConflict');
    expect(w.requestRejected('a/y', { sharingKey: 'k', ipPool: 'h' }).code).toBe('SharingKeyConflict');
  });

  it('a spec.ip held by a load balancer without the key stays AddressUnavailable', () => {
    const w = world();
    w.ip('a/plain');
    expect(w.requestRejected('a/x', { sharingKey: 'k', ip: '10.0.0.2' }).code).toBe('AddressUnavailable');
  });

  it('each delete but the last answers stillSharedBy and keeps the address; the last releases it into history', () => {
    const w = world();
    w.ip('a/web', { sharingKey: 'k' });
    w.ip('a/dns', { sharingKey: 'k' });
    expect(w.release('a/web')).toMatchObject({
      type: 'IPReleased',
      data: { loadBalancer: 'a/web', ip: '10.0.0.2', stillSharedBy: ['a/dns'] },
    });
    expect(w.status('g')).toMatchObject({
      available: 252,
      allocated: { '10.0.0.2': 'a/dns' },
      allocatedHistory: {},
    });
    expect(w.status('g').shared).toBeUndefined();
    const last = w.release('a/dns');
    expect(last).toMatchObject({ type: 'IPReleased', data: { loadBalancer: 'a/dns', ip: '10.0.0.2' } });
    expect(last.type === 'IPReleased' && 'stillSharedBy' in last.data).toBe(false);
    expect(w.status('g')).toMatchObject({
      available: 253,
      allocated: {},
      allocatedHistory: { '10.0.0.2': 'a/dns' },
    });
    // the key is free again: the next holder is a first holder, with a fresh address
    expect(w.allocate('a/new', { sharingKey: 'k' })).toMatchObject({ ip: '10.0.0.3' });
  });

  it('a repeated request answers the address with the current sharers (sticky)', () => {
    const w = world();
    w.ip('a/web', { sharingKey: 'k' });
    w.ip('a/dns', { sharingKey: 'k' });
    expect(w.allocate('a/web', { sharingKey: 'other' })).toMatchObject({
      ip: '10.0.0.2',
      sharingKey: 'k',
      sharedWith: ['a/dns'],
    });
  });

  it('a force-release takes the address from its oldest holder only', () => {
    const w = world();
    w.ip('a/web', { sharingKey: 'k' });
    w.ip('a/dns', { sharingKey: 'k' });
    expect(w.send(w.cmd.forceRelease('10.0.0.2'))).toMatchObject({
      type: 'IPReleased',
      data: { loadBalancer: 'a/web', forced: true, stillSharedBy: ['a/dns'] },
    });
    expect(w.status('g').allocated).toEqual({ '10.0.0.2': 'a/dns' });
  });

  it('a pool holding a shared address cannot be deleted; a range update keeps every holder on it', () => {
    const w = world();
    w.ip('a/web', { sharingKey: 'k' });
    w.ip('a/dns', { sharingKey: 'k' });
    expect(w.send(w.cmd.deletePool('g'))).toMatchObject({ data: { code: 'PoolInUse' } });
    w.mustUpdate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: '10.0.5.0/24' }]));
    expect(w.allocate('a/dns')).toMatchObject({ ip: '10.0.0.2', sharedWith: ['a/web'] });
    expect(w.mustRelease('a/web')).toBe('10.0.0.2');
    expect(w.status('g').allocated).toEqual({ '10.0.0.2': 'a/dns' });
  });
});
