/**
 * semantics.md section 5, disabled pools: `spec.autoAssign: false` keeps a pool out of selection (strict
 * match, the global pool, loose mode), while a load balancer that names it (spec.ipPool) or one of its
 * addresses (spec.ip) still gets an address from it.
 */
import { canonical, globalPool, pool, World } from './support.js';

const SCOPE = { scope: [{ project: '*', namespace: 'default', guestCluster: '*' }] };

function disabled<T extends { spec: object }>(p: T): T {
  return { ...p, spec: { ...p.spec, autoAssign: false } };
}

describe('a disabled pool is never chosen by selection', () => {
  it('a matching disabled pool of higher priority is passed over for the enabled one', () => {
    const w = new World()
      .mustCreate(disabled(pool('high', '10.0.1.0/24', { ...SCOPE, priority: 2 })))
      .mustCreate(pool('low', '10.0.2.0/24', { ...SCOPE, priority: 1 }));
    expect(w.allocate('default/a')).toMatchObject({ ipPool: 'low', ip: '10.0.2.2' });
  });

  it('with only a disabled match and no global pool: NoMatchingPool', () => {
    const w = new World().mustCreate(disabled(pool('only', '10.0.1.0/24', SCOPE)));
    expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
  });

  it('a disabled global pool is no fallback', () => {
    const w = new World().mustCreate(disabled(globalPool('g', '10.0.9.0/24')));
    expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
  });

  it('a disabled pool is not found by a cluster load balancer in loose mode either', () => {
    const w = new World().mustCreate(
      disabled(
        pool('loose', '10.0.1.0/24', { scope: [{ project: '', namespace: 'default', guestCluster: '' }] }),
      ),
    );
    expect(w.requestRejected('default/a', { workloadType: 'cluster', project: 'p', cluster: 'c' }).code).toBe(
      'NoMatchingPool',
    );
  });
});

describe('a disabled pool still serves load balancers that ask for it', () => {
  it('spec.ipPool naming it: allocated from it', () => {
    const w = new World().mustCreate(disabled(pool('reserved', '10.0.1.0/24', SCOPE)));
    expect(w.allocate('default/a', { ipPool: 'reserved' })).toMatchObject({
      ipPool: 'reserved',
      ip: '10.0.1.2',
    });
  });

  it('spec.ip of one of its addresses: allocated from it, though selection would pick another pool', () => {
    const w = new World()
      .mustCreate(disabled(pool('reserved', '10.0.1.0/24', SCOPE)))
      .mustCreate(globalPool('g', '10.0.9.0/24'));
    expect(w.allocate('default/a', { ip: '10.0.1.7' })).toMatchObject({ ipPool: 'reserved', ip: '10.0.1.7' });
    // and without any pool selection could pick
    const lone = new World().mustCreate(disabled(pool('reserved', '10.0.1.0/24', SCOPE)));
    expect(lone.allocate('other/a', { ip: '10.0.1.8' })).toMatchObject({ ipPool: 'reserved' });
  });

  it('spec.ip of an address an enabled pool holds is looked up in the selected pool, as before', () => {
    const w = new World()
      .mustCreate(pool('p', '10.0.1.0/24', SCOPE))
      .mustCreate(globalPool('g', '10.0.9.0/24'));
    expect(w.requestRejected('other/a', { ip: '10.0.1.7' }).code).toBe('AddressUnavailable');
  });

  it('the holder keeps its address when the pool is disabled later; new load balancers go elsewhere', () => {
    const w = new World()
      .mustCreate(pool('p', '10.0.1.0/24', SCOPE))
      .mustCreate(globalPool('g', '10.0.9.0/24'));
    expect(w.ip('default/a')).toBe('10.0.1.2');
    w.mustUpdate(disabled(pool('p', '10.0.1.0/24', SCOPE)));
    expect(w.ip('default/a')).toBe('10.0.1.2');
    expect(w.allocate('default/b')).toMatchObject({ ipPool: 'g' });
    // enabled again
    w.mustUpdate(pool('p', '10.0.1.0/24', SCOPE));
    expect(w.allocate('default/c')).toMatchObject({ ipPool: 'p', ip: '10.0.1.3' });
  });
});

describe('autoAssign in the canonical spec', () => {
  it('false is carried; true and absent are the same spec, written without it', () => {
    expect(canonical(disabled(pool('p', '10.0.1.0/24', SCOPE)))).toMatchObject({ autoAssign: false });
    const on = canonical({
      ...pool('p', '10.0.1.0/24', SCOPE),
      spec: { ...pool('p', '10.0.1.0/24', SCOPE).spec, autoAssign: true },
    });
    expect(on).toEqual(canonical(pool('p', '10.0.1.0/24', SCOPE)));
    expect('autoAssign' in on).toBe(false);
  });

  it('a re-create that only flips autoAssign is a different spec (PoolExists)', () => {
    const w = new World().mustCreate(pool('p', '10.0.1.0/24', SCOPE));
    expect(w.createRejected(disabled(pool('p', '10.0.1.0/24', SCOPE))).code).toBe('PoolExists');
  });

  it('a value that is not a boolean is InvalidEvent', () => {
    const w = new World();
    const p = pool('p', '10.0.1.0/24', SCOPE);
    expect(w.createRejected({ ...p, spec: { ...p.spec, autoAssign: 'no' } }).code).toBe('InvalidEvent');
  });

  it('a disabled pool still counts in validation (it may be enabled again): same priority is DuplicatePriority', () => {
    const w = new World().mustCreate(disabled(pool('a', '10.0.1.0/24', { ...SCOPE, priority: 3 })));
    expect(w.createRejected(pool('b', '10.0.2.0/24', { ...SCOPE, priority: 3 })).code).toBe(
      'DuplicatePriority',
    );
  });
});
