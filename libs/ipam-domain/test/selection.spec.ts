/**
 * semantics.md section 5: choosing a pool for a load balancer.
 */
import { globalPool, pool, World } from './support.js';

describe('section 5: choosing a pool', () => {
  describe('1. an explicit pool (spec.ipPool) skips every check', () => {
    it('serves from the named pool whatever its network, scope or priority', () => {
      const w = new World()
        .mustCreate(
          pool('narrow', '10.0.0.0/24', {
            network: 'default/vlan1',
            scope: [{ project: 'p', namespace: 'n', guestCluster: 'c' }],
          }),
        )
        .mustCreate(pool('unscoped', '10.0.1.0/24'))
        .mustCreate(globalPool('global', '10.0.2.0/24'))
        .mustCreate(pool('best', '10.0.3.0/24', { priority: 9, scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a', { ipPool: 'narrow' })).toMatchObject({
        ipPool: 'narrow',
        ip: '10.0.0.2',
      });
      expect(w.allocate('default/b', { ipPool: 'unscoped' })).toMatchObject({
        ipPool: 'unscoped',
        ip: '10.0.1.2',
      });
      expect(w.allocate('default/c', { ipPool: 'global', network: 'x/y' })).toMatchObject({
        ipPool: 'global',
      });
    });

    it('rejects an unknown pool with UnknownPool, even when another pool would match', () => {
      const w = new World().mustCreate(globalPool('global', '10.0.2.0/24'));
      const r = w.requestRejected('default/a', { ipPool: 'missing' });
      expect(r.code).toBe('UnknownPool');
      expect(r.reason).toContain('missing');
    });
  });

  describe('2. network and scope matching', () => {
    it('network is an exact match: "" equals only ""', () => {
      const w = new World()
        .mustCreate(
          pool('vlan1', '10.0.0.0/24', { network: 'default/vlan1', scope: [{ namespace: 'default' }] }),
        )
        .mustCreate(pool('plain', '10.0.1.0/24', { scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a', { network: 'default/vlan1' }).ipPool).toBe('vlan1');
      expect(w.allocate('default/b').ipPool).toBe('plain');
      expect(w.requestRejected('default/c', { network: 'default/vlan2' }).code).toBe('NoMatchingPool');
      expect(w.requestRejected('default/d', { network: '*' }).code).toBe('NoMatchingPool'); // "*" is no wildcard for networks
    });

    it('a pool "*" matches any requirement value', () => {
      const w = new World().mustCreate(
        pool('p', '10.0.0.0/24', { scope: [{ project: '*', namespace: 'default', guestCluster: '*' }] }),
      );
      expect(w.allocate('default/a', { project: 'x', cluster: 'y' }).ipPool).toBe('p');
      expect(w.allocate('default/b').ipPool).toBe('p');
      expect(w.requestRejected('other/c', { project: 'x', cluster: 'y' }).code).toBe('NoMatchingPool');
    });

    it('a requirement "*" matches any pool value', () => {
      const w = new World().mustCreate(
        pool('p', '10.0.0.0/24', {
          scope: [{ project: 'prod', namespace: 'default', guestCluster: 'rke2' }],
        }),
      );
      expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
      expect(w.allocate('default/b', { project: '*', cluster: '*' }).ipPool).toBe('p');
      expect(w.allocate('x/c', { project: 'prod', namespace: '*', cluster: 'rke2' }).ipPool).toBe('p');
    });

    it('a missing tuple field is "", a literal value and not a wildcard', () => {
      const w = new World().mustCreate(pool('p', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a').ipPool).toBe('p'); // project "" == "", cluster "" == ""
      expect(w.requestRejected('default/b', { project: 'prod' }).code).toBe('NoMatchingPool');
      expect(w.requestRejected('default/c', { cluster: 'rke2' }).code).toBe('NoMatchingPool');
    });

    it('the namespace requirement defaults to the load balancer namespace; the annotation overrides it', () => {
      const w = new World().mustCreate(pool('p', '10.0.0.0/24', { scope: [{ namespace: 'tenant' }] }));
      expect(w.allocate('tenant/a').ipPool).toBe('p');
      expect(w.allocate('default/b', { namespace: 'tenant' }).ipPool).toBe('p');
      expect(w.requestRejected('tenant/c', { namespace: 'default' }).code).toBe('NoMatchingPool');
    });

    it('a pool matches when ANY of its tuples matches', () => {
      const w = new World().mustCreate(
        pool('p', '10.0.0.0/24', {
          scope: [
            { project: 'a', namespace: 'n1', guestCluster: 'c1' },
            { project: 'b', namespace: 'n2', guestCluster: 'c2' },
          ],
        }),
      );
      expect(w.allocate('n1/x', { project: 'a', cluster: 'c1' }).ipPool).toBe('p');
      expect(w.allocate('n2/y', { project: 'b', cluster: 'c2' }).ipPool).toBe('p');
      expect(w.requestRejected('n1/z', { project: 'b', cluster: 'c2' }).code).toBe('NoMatchingPool');
    });

    it('a pool with an empty scope list is never picked automatically, even with a "*" requirement', () => {
      const w = new World().mustCreate(pool('p', '10.0.0.0/24'));
      expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
      expect(w.requestRejected('default/b', { project: '*', namespace: '*', cluster: '*' }).code).toBe(
        'NoMatchingPool',
      );
      expect(w.allocate('default/c', { ipPool: 'p' }).ipPool).toBe('p');
    });
  });

  describe('3. priority', () => {
    it('among matching pools the highest priority wins', () => {
      const w = new World()
        .mustCreate(pool('low', '10.0.0.0/24', { priority: 0, scope: [{ namespace: 'default' }] }))
        .mustCreate(pool('high', '10.0.1.0/24', { priority: 5, scope: [{ namespace: 'default' }] }))
        .mustCreate(pool('mid', '10.0.2.0/24', { priority: 3, scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a')).toMatchObject({ ipPool: 'high', ip: '10.0.1.2' });
    });

    it('a higher-priority pool that is exhausted is still the one chosen (PoolExhausted, no fall-through)', () => {
      const w = new World()
        .mustCreate(pool('low', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(pool('high', '10.0.1.0/30', { priority: 1, scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a').ipPool).toBe('high');
      expect(w.requestRejected('default/b').code).toBe('PoolExhausted');
    });

    it('a tie goes to the pool whose name sorts first (not creation order)', () => {
      // two priority-0 pools whose tuples do not overlap each other, but both match a "*" cluster requirement
      const w = new World()
        .mustCreate(
          pool('zeta', '10.0.0.0/24', { scope: [{ project: '*', namespace: 'default', guestCluster: 'x' }] }),
        )
        .mustCreate(
          pool('alpha', '10.0.1.0/24', { scope: [{ project: 'p', namespace: '*', guestCluster: 'y' }] }),
        );
      expect(w.allocate('default/a', { project: 'p', cluster: '*' }).ipPool).toBe('alpha');
      expect(w.allocate('default/b', { project: 'p', cluster: 'x' }).ipPool).toBe('zeta');
    });
  });

  describe('4. the global pool', () => {
    it('serves when nothing matched', () => {
      const w = new World()
        .mustCreate(pool('scoped', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(globalPool('global', '10.0.9.0/24'));
      expect(w.allocate('default/a').ipPool).toBe('scoped');
      expect(w.allocate('other/b')).toMatchObject({ ipPool: 'global', ip: '10.0.9.2' });
    });

    it('a matching pool of any priority beats the global pool', () => {
      const w = new World()
        .mustCreate(globalPool('global', '10.0.9.0/24', { priority: 7 }))
        .mustCreate(pool('scoped', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a').ipPool).toBe('scoped');
    });

    it('a global pool without a network serves any load balancer, whatever its network', () => {
      const w = new World().mustCreate(globalPool('global', '10.0.9.0/24'));
      expect(w.allocate('default/a', { network: 'default/vlan7' }).ipPool).toBe('global');
      expect(w.allocate('x/b', { project: 'p', cluster: 'c' }).ipPool).toBe('global');
    });

    it('a global pool with a network serves only that network (deviation, harvester#10592)', () => {
      const w = new World().mustCreate(globalPool('global', '10.0.9.0/24', { network: 'default/vlan1' }));
      expect(w.allocate('default/a', { network: 'default/vlan1' }).ipPool).toBe('global');
      expect(w.requestRejected('default/b').code).toBe('NoMatchingPool');
      expect(w.requestRejected('default/c', { network: 'default/vlan2' }).code).toBe('NoMatchingPool');
    });

    it('a pool is global only when every field of its single tuple is "*"', () => {
      const w = new World().mustCreate(
        pool('almost', '10.0.0.0/24', { scope: [{ project: '*', namespace: '*' }] }),
      );
      // not global, so a real global pool is still allowed ...
      w.mustCreate(globalPool('global', '10.0.1.0/24'));
      // ... and "almost" is a normal pool: guestCluster "" is literal
      expect(w.allocate('any/a').ipPool).toBe('almost');
      expect(w.allocate('any/b', { cluster: 'c' }).ipPool).toBe('global');
    });
  });

  describe('5. cluster load balancers: loose mode', () => {
    const clusterLb = { workloadType: 'cluster' as const, project: 'prod', cluster: 'rke2' };

    it('treats a pool tuple empty project / guestCluster as any, when no strict match and no global pool', () => {
      const w = new World().mustCreate(pool('ns', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a', clusterLb).ipPool).toBe('ns');
      expect(w.requestRejected('default/b', { ...clusterLb, workloadType: 'vm' }).code).toBe(
        'NoMatchingPool',
      );
      expect(w.requestRejected('default/c', { project: 'prod', cluster: 'rke2' }).code).toBe(
        'NoMatchingPool',
      ); // default is vm
    });

    it('does not loosen the namespace or the network', () => {
      const w = new World()
        .mustCreate(pool('nons', '10.0.0.0/24', { scope: [{ project: 'prod', guestCluster: 'rke2' }] }))
        .mustCreate(
          pool('vlan', '10.0.1.0/24', { network: 'default/vlan1', scope: [{ namespace: 'default' }] }),
        );
      expect(w.requestRejected('default/a', clusterLb).code).toBe('NoMatchingPool');
    });

    it('a strict match wins over a higher-priority loose match', () => {
      const w = new World()
        .mustCreate(
          pool('strict', '10.0.0.0/24', {
            scope: [{ project: 'prod', namespace: 'default', guestCluster: 'rke2' }],
          }),
        )
        .mustCreate(pool('loose', '10.0.1.0/24', { priority: 9, scope: [{ namespace: 'default' }] }));
      expect(w.allocate('default/a', clusterLb).ipPool).toBe('strict');
    });

    it('a usable global pool comes before loose mode', () => {
      const w = new World()
        .mustCreate(pool('ns', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(globalPool('global', '10.0.9.0/24'));
      expect(w.allocate('default/a', clusterLb).ipPool).toBe('global');
    });

    it('loose mode still applies when the global pool is for another network', () => {
      const w = new World()
        .mustCreate(pool('ns', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(globalPool('global', '10.0.9.0/24', { network: 'default/vlan1' }));
      expect(w.allocate('default/a', clusterLb).ipPool).toBe('ns');
    });

    it('among loose matches the highest priority wins', () => {
      const w = new World()
        .mustCreate(pool('l0', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(
          pool('l2', '10.0.1.0/24', { priority: 2, scope: [{ project: 'prod', namespace: 'default' }] }),
        );
      expect(w.allocate('default/a', clusterLb).ipPool).toBe('l2');
    });
  });

  describe('6. no pool', () => {
    it('rejects with NoMatchingPool and a reason that names the requirement', () => {
      const w = new World().mustCreate(pool('p', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      const r = w.requestRejected('tenant/a', { network: 'default/vlan1', project: 'prod', cluster: 'rke2' });
      expect(r.code).toBe('NoMatchingPool');
      expect(r.reason).toContain('"default/vlan1"');
      expect(r.reason).toContain('"prod"');
      expect(r.reason).toContain('"tenant"');
      expect(r.reason).toContain('"rke2"');
    });

    it('with no pools at all', () => {
      const w = new World();
      expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
    });
  });
});
