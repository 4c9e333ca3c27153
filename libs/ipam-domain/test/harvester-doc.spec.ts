/**
 * The four examples of harvester-ip-pool.md, as written there (networking.harvesterhci.io/v1beta1, scope
 * as a single object, the key `cluster`), applied together; then load balancers requested from each.
 */
import { parse } from 'yaml';
import { poolViews } from '../src/index.js';
import { World } from './support.js';

const EXAMPLE_1 = `
apiVersion: networking.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: default-ip-pool
spec:
  ranges:
  - subnet: 192.168.100.0/24
  selector:
    scope:
      namespace: default
`;

const EXAMPLE_2 = `
apiVersion: networking.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: rke2-ip-pool
spec:
  ranges:
  - subnet: 192.168.10.0/24
    rangeStart: 192.168.10.10
    rangeEnd: 192.168.10.20
  selector:
    network: default/vlan1
    scope:
      project: product
      namespace: default
      cluster: rke2
`;

const EXAMPLE_3 = `
apiVersion: networking.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: default-ip-pool-2
spec:
  ranges:
  - subnet: 192.168.200.0/24
  selector:
    priority: 1  # The priority is higher than default-ip-pool
    scope:
      namespace: default
`;

const EXAMPLE_4 = `
apiVersion: networking.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: global-ip-pool
spec:
  ranges:
  - subnet: 192.168.20.0/24
  selector:
    scope:
      project: "*"
      namespace: "*"
      cluster: "*"
`;

function docWorld(): World {
  const w = new World();
  for (const text of [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3, EXAMPLE_4]) w.mustCreate(parse(text));
  return w;
}

const RKE2 = { network: 'default/vlan1', project: 'product', namespace: 'default', cluster: 'rke2' };

describe('harvester-ip-pool.md examples, applied together', () => {
  it('all four are accepted and stored in canonical form', () => {
    const w = docWorld();
    const views = poolViews(w.state);
    expect(views.map((v) => v.metadata.name)).toEqual([
      'default-ip-pool',
      'default-ip-pool-2',
      'global-ip-pool',
      'rke2-ip-pool',
    ]);
    const byName = Object.fromEntries(views.map((v) => [v.metadata.name, v]));
    expect(byName['rke2-ip-pool'].spec).toEqual({
      ranges: [{ subnet: '192.168.10.0/24', rangeStart: '192.168.10.10', rangeEnd: '192.168.10.20' }],
      selector: {
        priority: 0,
        network: 'default/vlan1',
        scope: [{ project: 'product', namespace: 'default', guestCluster: 'rke2' }],
      },
    });
    expect(byName['default-ip-pool'].spec.selector).toEqual({
      priority: 0,
      scope: [{ project: '', namespace: 'default', guestCluster: '' }],
    });
    expect(byName['global-ip-pool'].spec.selector.scope).toEqual([
      { project: '*', namespace: '*', guestCluster: '*' },
    ]);
    expect(w.state.pools.get('global-ip-pool')?.def.global).toBe(true);
    expect(views.map((v) => v.status.total)).toEqual([253, 253, 253, 11]);
  });

  it('example 1 alone: every load balancer of the default namespace gets an address from default-ip-pool', () => {
    const w = new World().mustCreate(parse(EXAMPLE_1));
    expect(w.allocate('default/a')).toMatchObject({
      ipPool: 'default-ip-pool',
      ip: '192.168.100.2',
      gateway: '192.168.100.1',
      mask: '255.255.255.0',
    });
    expect(w.allocate('default/b').ip).toBe('192.168.100.3');
    expect(w.requestRejected('other/c').code).toBe('NoMatchingPool');
  });

  it('example 2: the rke2 guest cluster on default/vlan1 gets 192.168.10.10-20', () => {
    const w = docWorld();
    expect(w.allocate('default/rke2-default-lb-pool-2fab9ac0', RKE2)).toMatchObject({
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.10',
      gateway: '192.168.10.1',
      prefixLength: 24,
    });
    const more = w.drain('default', RKE2);
    expect(more).toEqual(Array.from({ length: 10 }, (_, i) => `192.168.10.${11 + i}`));
  });

  it('example 3: default-ip-pool-2 (priority 1) wins over default-ip-pool for the default namespace', () => {
    const w = docWorld();
    expect(w.allocate('default/a')).toMatchObject({ ipPool: 'default-ip-pool-2', ip: '192.168.200.2' });
    // the old pool is still reachable by name
    expect(w.allocate('default/b', { ipPool: 'default-ip-pool' })).toMatchObject({
      ipPool: 'default-ip-pool',
      ip: '192.168.100.2',
    });
  });

  it('example 4: anything no pool matches gets an address from the global pool', () => {
    const w = docWorld();
    expect(w.allocate('other/a')).toMatchObject({ ipPool: 'global-ip-pool', ip: '192.168.20.2' });
    // the network is a hard condition for rke2-ip-pool: another project on vlan1 falls back to the global pool
    expect(w.allocate('default/b', { ...RKE2, project: 'other' })).toMatchObject({
      ipPool: 'global-ip-pool',
      ip: '192.168.20.3',
    });
    // the rke2 scope on another network is not served by rke2-ip-pool either
    expect(w.allocate('default/c', { ...RKE2, network: 'default/vlan2' }).ipPool).toBe('global-ip-pool');
  });

  it('the doc allocatedHistory example: a load balancer gets its previous address back', () => {
    const w = docWorld();
    w.ip('default/x', RKE2); // .10
    w.ip('default/rke2-default-lb-pool-2fab9ac0', RKE2); // .11
    w.mustRelease('default/rke2-default-lb-pool-2fab9ac0');
    expect(w.status('rke2-ip-pool').allocatedHistory).toEqual({
      '192.168.10.11': 'default/rke2-default-lb-pool-2fab9ac0',
    });
    w.ip('default/y', RKE2); // .12
    expect(w.allocate('default/rke2-default-lb-pool-2fab9ac0', RKE2)).toMatchObject({
      ip: '192.168.10.11',
      fromHistory: true,
    });
  });

  it('a second copy of example 1 with another name is rejected: same scope, priority 0, same network', () => {
    const w = docWorld();
    const dup = parse(
      EXAMPLE_1.replace('default-ip-pool', 'default-ip-pool-copy').replace(
        '192.168.100.0/24',
        '192.168.101.0/24',
      ),
    );
    expect(w.createRejected(dup).code).toBe('ScopeOverlap');
    const global2 = parse(
      EXAMPLE_4.replace('global-ip-pool', 'global-2').replace('192.168.20.0/24', '192.168.21.0/24'),
    );
    expect(w.createRejected(global2).code).toBe('GlobalPoolExists');
  });
});
