/**
 * semantics.md section 6: validating pools (create, update, delete), each rule accepted and rejected
 * with its code, plus the contract's PoolExists / UnknownPool rules and the shape checks (InvalidEvent).
 */
import { IpamEvent, poolViews } from '../src/index.js';
import { canonical, Commands, given, globalPool, pool, RangeIn, World } from './support.js';

const NS_DEFAULT = { scope: [{ namespace: 'default' }] };

function rangeCode(ranges: RangeIn[] | string): string | null {
  const w = new World();
  const e = w.send(w.cmd.createPool(pool('p', ranges, NS_DEFAULT)));
  return e.type === 'PoolRejected' ? e.data.code : null;
}

describe('section 6: validating pools', () => {
  describe('rule 1: ranges present', () => {
    it('rejects an empty or missing range list with InvalidRange', () => {
      const w = new World();
      expect(w.createRejected(pool('p', [], NS_DEFAULT)).code).toBe('InvalidRange');
      const r = w.createRejected({ metadata: { name: 'p' }, spec: { selector: NS_DEFAULT } });
      expect(r.code).toBe('InvalidRange');
      expect(r.reason).toMatch(/ranges/);
      expect(w.state.pools.size).toBe(0);
    });
  });

  describe('rule 2: each range is valid (section 2)', () => {
    it.each([
      ['a subnet without a prefix', [{ subnet: '10.0.0.0' }]],
      ['a prefix too long for IPv4', [{ subnet: '10.0.0.0/33' }]],
      ['a prefix too long for IPv6', [{ subnet: 'fd00::/129' }]],
      ['a non-decimal prefix', [{ subnet: '10.0.0.0/024' }]],
      ['garbage', [{ subnet: 'not-a-cidr/24' }]],
      ['a missing subnet', [{ rangeStart: '10.0.0.5' }]],
      [
        'rangeStart after rangeEnd (deviation: Harvester swaps them)',
        [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.20', rangeEnd: '10.0.0.10' }],
      ],
      [
        'rangeStart after the default rangeEnd',
        [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.254', rangeEnd: '10.0.0.253' }],
      ],
      ['an IPv4-mapped subnet', [{ subnet: '::ffff:10.0.0.0/120' }]],
      ['an IPv4-mapped rangeStart', [{ subnet: 'fd00::/120', rangeStart: '::ffff:10.0.0.5' }]],
      ['a zoned subnet', [{ subnet: 'fe80::%eth0/64' }]],
      ['a zoned rangeStart', [{ subnet: 'fe80::/64', rangeStart: 'fe80::5%eth0' }]],
      ['a zoned gateway', [{ subnet: 'fe80::/64', gateway: 'fe80::1%eth0' }]],
      ['an octal-looking subnet', [{ subnet: '010.0.0.0/24' }]],
      ['a hexadecimal subnet', [{ subnet: '0x0a.0.0.0/24' }]],
      ['a shortened IPv4 subnet', [{ subnet: '10.0.0/24' }]],
      ['a leading-zero rangeEnd', [{ subnet: '10.0.0.0/24', rangeEnd: '10.0.0.020' }]],
      ['a single-number IPv4 gateway', [{ subnet: '10.0.0.0/24', gateway: '167772161' }]],
      ['a rangeStart outside the subnet', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }]],
      ['a rangeEnd outside the subnet', [{ subnet: '10.0.0.0/24', rangeEnd: '10.0.1.5' }]],
      ['a gateway outside the subnet', [{ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }]],
      ['a rangeStart of the other family', [{ subnet: '10.0.0.0/24', rangeStart: 'fd00::5' }]],
      ['a gateway of the other family', [{ subnet: 'fd00::/120', gateway: '10.0.0.1' }]],
      ['rangeStart = the network address', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.0' }]],
      ['rangeEnd = the broadcast address', [{ subnet: '10.0.0.0/24', rangeEnd: '10.0.0.255' }]],
      ['gateway = the network address', [{ subnet: '10.0.0.0/24', gateway: '10.0.0.0' }]],
      ['gateway = the broadcast address', [{ subnet: '10.0.0.0/24', gateway: '10.0.0.255' }]],
      ['IPv6 rangeStart = the network address', [{ subnet: 'fd00::/120', rangeStart: 'fd00::' }]],
      ['a bad second range', [{ subnet: '10.0.0.0/24' }, { subnet: '10.0.1.0/24', rangeStart: '10.0.2.1' }]],
    ])('rejects %s with InvalidRange', (_what, ranges) => {
      expect(rangeCode(ranges as RangeIn[])).toBe('InvalidRange');
    });

    it.each([
      [
        'explicit rangeStart, rangeEnd and gateway inside the subnet',
        [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.1', rangeEnd: '10.0.0.254', gateway: '10.0.0.254' }],
      ],
      ['rangeStart = rangeEnd', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.9' }]],
      ['an IPv6 rangeEnd at the last address', [{ subnet: 'fd00::/120', rangeEnd: 'fd00::ff' }]],
      ['host bits in the subnet', [{ subnet: '10.0.0.77/24' }]],
      ['a /31 with rangeStart at .0', [{ subnet: '10.0.0.0/31', rangeStart: '10.0.0.0' }]],
      [
        'a /32 with rangeStart at its address',
        [{ subnet: '10.0.0.9/32', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.9' }],
      ],
      [
        'an IPv6 subnet with embedded IPv4 notation that is not IPv4-mapped',
        [{ subnet: '64:ff9b::10.0.0.0/120' }],
      ],
      ['empty optional fields', [{ subnet: '10.0.0.0/24', rangeStart: '', rangeEnd: '', gateway: '' }]],
    ])('accepts %s', (_what, ranges) => {
      expect(rangeCode(ranges as RangeIn[])).toBeNull();
    });

    it('the reason says which range and field is wrong', () => {
      const w = new World();
      const r = w.createRejected(
        pool('p', [{ subnet: '10.0.0.0/24' }, { subnet: '10.0.1.0/24', rangeEnd: '10.0.1.255' }], NS_DEFAULT),
      );
      expect(r.reason).toContain('spec.ranges[1].rangeEnd');
      expect(r.reason).toMatch(/broadcast/);
    });
  });

  describe('rule 3: ranges of the pool do not overlap each other', () => {
    it('rejects overlapping ranges with RangeOverlap', () => {
      expect(rangeCode([{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.128/25' }])).toBe('RangeOverlap');
      expect(
        rangeCode([
          { subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.20' },
          { subnet: '10.0.0.0/24', rangeStart: '10.0.0.20', rangeEnd: '10.0.0.30' },
        ]),
      ).toBe('RangeOverlap');
    });

    it('accepts adjacent ranges, and disjoint ranges of one subnet', () => {
      expect(
        rangeCode([
          { subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.20' },
          { subnet: '10.0.0.0/24', rangeStart: '10.0.0.21', rangeEnd: '10.0.0.30' },
        ]),
      ).toBeNull();
      expect(rangeCode([{ subnet: '10.0.0.0/25' }, { subnet: '10.0.0.128/25' }])).toBeNull();
    });
  });

  describe('rule 4: ranges do not overlap any other pool', () => {
    it('rejects overlap with another pool, a global pool and a pool of another network', () => {
      const w = new World()
        .mustCreate(pool('a', '10.0.0.0/24', NS_DEFAULT))
        .mustCreate(globalPool('g', '10.0.1.0/24'))
        .mustCreate(pool('v', '10.0.2.0/24', { network: 'default/vlan1', scope: [{ namespace: 'x' }] }));
      for (const subnet of ['10.0.0.0/25', '10.0.1.200/29', '10.0.2.0/23']) {
        const r = w.createRejected(pool('new', subnet, { priority: 4, scope: [{ namespace: 'other' }] }));
        expect(r.code).toBe('RangeOverlap');
      }
      expect(
        w.createRejected(pool('new', '10.0.1.0/24', { priority: 4, scope: [{ namespace: 'other' }] })).reason,
      ).toContain('"g"');
    });

    it('accepts ranges adjacent to another pool, and a disjoint part of the same subnet', () => {
      const w = new World().mustCreate(
        pool('a', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.20' }], NS_DEFAULT),
      );
      w.mustCreate(
        pool('b', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.21', rangeEnd: '10.0.0.30' }], {
          scope: [{ namespace: 'b' }],
        }),
      );
      w.mustCreate(
        pool('c', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.2', rangeEnd: '10.0.0.9' }], {
          scope: [{ namespace: 'c' }],
        }),
      );
    });

    it('an update does not overlap with its own old ranges', () => {
      const w = new World().mustCreate(pool('a', '10.0.0.0/24', NS_DEFAULT));
      w.mustUpdate(pool('a', '10.0.0.0/23', NS_DEFAULT));
      expect(w.status('a').total).toBe(509);
    });

    it('IPv4 and IPv6 ranges never overlap', () => {
      const w = new World().mustCreate(pool('a', '0.0.0.0/1', NS_DEFAULT));
      w.mustCreate(pool('b', '::/1', { scope: [{ namespace: 'b' }] }));
    });
  });

  describe('rule 5: global pool, scope and priority', () => {
    it('only one global pool: another is rejected with GlobalPoolExists (whatever its network)', () => {
      const w = new World().mustCreate(globalPool('g1', '10.0.0.0/24'));
      const r = w.createRejected(globalPool('g2', '10.0.1.0/24', { network: 'default/vlan1' }));
      expect(r.code).toBe('GlobalPoolExists');
      expect(r.reason).toContain('"g1"');
      // the global pool may be updated itself
      w.mustUpdate(globalPool('g1', '10.0.0.0/23'));
    });

    it('a global pool skips the scope and priority checks, and its priority is not taken from others', () => {
      const w = new World()
        .mustCreate(pool('zero', '10.0.5.0/24', { scope: [{ namespace: 'default' }] }))
        .mustCreate(pool('a', '10.0.0.0/24', { priority: 3, scope: [{ namespace: 'a' }] }));
      // its */*/* tuple matches the priority-0 pool "zero" on the same network, and its priority equals a's
      w.mustCreate(globalPool('g', '10.0.1.0/24', { priority: 3 }));
      expect(
        w.createRejected(pool('d', '10.0.4.0/24', { priority: 3, scope: [{ namespace: 'd' }] })).code,
      ).toBe('DuplicatePriority');
      w.mustUpdate(globalPool('g', '10.0.1.0/24', { priority: 5 }));
      w.mustCreate(pool('b', '10.0.2.0/24', { priority: 5, scope: [{ namespace: 'b' }] }));
    });

    it('(a) rejects a pool whose own scope tuples overlap (ScopeOverlap)', () => {
      const w = new World();
      expect(
        w.createRejected(pool('p', '10.0.0.0/24', { scope: [{ namespace: 'default' }, { namespace: '*' }] }))
          .code,
      ).toBe('ScopeOverlap');
      expect(
        w.createRejected(
          pool('p', '10.0.0.0/24', { scope: [{ namespace: 'default' }, { namespace: 'default' }] }),
        ).code,
      ).toBe('ScopeOverlap');
      expect(
        w.createRejected(
          pool('p', '10.0.0.0/24', {
            priority: 4,
            scope: [
              { project: 'a', namespace: '*', guestCluster: 'c' },
              { project: '*', namespace: 'n', guestCluster: 'c' },
            ],
          }),
        ).code,
      ).toBe('ScopeOverlap');
      w.mustCreate(
        pool('p', '10.0.0.0/24', {
          scope: [{ namespace: 'default' }, { namespace: 'other' }, { project: 'x', namespace: 'default' }],
        }),
      );
    });

    it('(b) rejects a non-zero priority used by another non-global pool, across networks (DuplicatePriority)', () => {
      const w = new World().mustCreate(
        pool('a', '10.0.0.0/24', { priority: 2, scope: [{ namespace: 'a' }] }),
      );
      const r = w.createRejected(
        pool('b', '10.0.1.0/24', { priority: 2, network: 'default/vlan1', scope: [{ namespace: 'b' }] }),
      );
      expect(r.code).toBe('DuplicatePriority');
      expect(r.reason).toContain('"a"');
      w.mustCreate(
        pool('b', '10.0.1.0/24', { priority: 3, network: 'default/vlan1', scope: [{ namespace: 'b' }] }),
      );
      // updating a pool keeps its own priority without conflict
      w.mustUpdate(pool('a', '10.0.0.0/25', { priority: 2, scope: [{ namespace: 'a' }] }));
    });

    it('(c) rejects two priority-0 pools on the same network whose tuples match (ScopeOverlap)', () => {
      const w = new World().mustCreate(pool('a', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      const r = w.createRejected(pool('b', '10.0.1.0/24', { scope: [{ namespace: 'default' }] }));
      expect(r.code).toBe('ScopeOverlap');
      expect(r.reason).toMatch(/priority/);
      expect(
        w.createRejected(
          pool('b', '10.0.1.0/24', { scope: [{ project: '*', namespace: '*', guestCluster: '' }] }),
        ).code,
      ).toBe('ScopeOverlap');
      expect(
        w.createRejected(pool('b', '10.0.1.0/24', { scope: [{ namespace: 'x' }, { namespace: 'default' }] }))
          .code,
      ).toBe('ScopeOverlap');
    });

    it('(c) accepts the same scope on another network, with a non-zero priority, or a non-matching scope', () => {
      const w = new World().mustCreate(pool('a', '10.0.0.0/24', { scope: [{ namespace: 'default' }] }));
      w.mustCreate(pool('b', '10.0.1.0/24', { network: 'default/vlan1', scope: [{ namespace: 'default' }] }));
      w.mustCreate(pool('c', '10.0.2.0/24', { priority: 1, scope: [{ namespace: 'default' }] }));
      w.mustCreate(pool('d', '10.0.3.0/24', { scope: [{ namespace: 'default', guestCluster: 'rke2' }] }));
      w.mustCreate(pool('e', '10.0.4.0/24', { scope: [{ namespace: 'other' }] }));
    });
  });

  describe('rule 6: network looks like namespace/name', () => {
    it.each(['vlan1', 'a/b/c', '/vlan1', 'default/', 'Default/VLAN1', 'default vlan1'])(
      'rejects %j with InvalidNetwork',
      (network) => {
        const w = new World();
        expect(
          w.createRejected(pool('p', '10.0.0.0/24', { network, scope: [{ namespace: 'default' }] })).code,
        ).toBe('InvalidNetwork');
      },
    );

    it('accepts namespace/name', () => {
      new World().mustCreate(
        pool('p', '10.0.0.0/24', { network: 'default/vlan-1.a', scope: [{ namespace: 'default' }] }),
      );
    });
  });

  describe('order of the rules: the first failure rejects', () => {
    it('a range error before an overlap, an overlap before a scope error, a scope error before a network error', () => {
      const w = new World().mustCreate(
        pool('a', '10.0.0.0/24', { priority: 1, scope: [{ namespace: 'default' }] }),
      );
      expect(
        w.createRejected(
          pool('b', [{ subnet: '10.0.0.0/24' }, { subnet: 'bad' }], { priority: 1, network: 'x' }),
        ).code,
      ).toBe('InvalidRange');
      expect(w.createRejected(pool('b', '10.0.0.0/24', { priority: 1, network: 'x' })).code).toBe(
        'RangeOverlap',
      );
      expect(w.createRejected(pool('b', '10.0.1.0/24', { priority: 1, network: 'x' })).code).toBe(
        'DuplicatePriority',
      );
      expect(
        w.createRejected(pool('b', '10.0.1.0/24', { priority: 2, network: 'x', scope: [{}, {}] })).code,
      ).toBe('ScopeOverlap');
      w.mustCreate(globalPool('g', '10.0.9.0/24'));
      expect(w.createRejected(globalPool('g2', '10.0.8.0/24', { network: 'x' })).code).toBe(
        'GlobalPoolExists',
      );
      expect(w.createRejected(pool('b', '10.0.1.0/24', { priority: 2, network: 'x' })).code).toBe(
        'InvalidNetwork',
      );
    });
  });

  describe('rule 7 (update): allocated addresses stay in range', () => {
    it('rejects an update that leaves an allocated address outside (AllocatedOutOfRange) and changes nothing', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a'); // .2
      const before = poolViews(w.state);
      const r = w.updateRejected(globalPool('p', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.3' }]));
      expect(r.code).toBe('AllocatedOutOfRange');
      expect(r.reason).toContain('10.0.0.2');
      expect(r.reason).toContain('default/a');
      expect(poolViews(w.state)).toEqual(before);
    });

    it('checks every range an update changes, though it keeps others as they are; an edit of the selector alone passes', () => {
      const w = new World().mustCreate(
        globalPool('p', [{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29' }]),
      );
      w.ip('default/a', { ip: '10.0.0.2' });
      w.ip('default/b', { ip: '10.0.1.5' });
      const r = w.updateRejected(
        globalPool('p', [{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29', rangeEnd: '10.0.1.4' }]),
      );
      expect(r.code).toBe('AllocatedOutOfRange');
      expect(r.reason).toContain('10.0.1.5 is allocated to default/b');
      w.mustUpdate(globalPool('p', [{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29' }], { priority: 7 }));
      expect(w.status('p').allocated).toEqual({ '10.0.0.2': 'default/a', '10.0.1.5': 'default/b' });
    });

    it('rejects an update that would make an allocated address the gateway', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a');
      expect(w.updateRejected(globalPool('p', [{ subnet: '10.0.0.0/24', gateway: '10.0.0.2' }])).code).toBe(
        'AllocatedOutOfRange',
      );
    });

    it('accepts an update that keeps every allocated address, even into another range; free counts follow', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a'); // .2
      w.ip('default/b'); // .3
      w.mustUpdate(
        globalPool('p', [
          { subnet: '10.0.1.0/24' },
          { subnet: '10.0.0.0/24', rangeStart: '10.0.0.2', rangeEnd: '10.0.0.3' },
        ]),
      );
      expect(w.status('p')).toMatchObject({
        total: 253 + 2,
        available: 253,
        allocated: { '10.0.0.2': 'default/a', '10.0.0.3': 'default/b' },
      });
    });

    it('history-only addresses may fall out (their history is pruned)', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a'); // .2
      w.ip('default/b'); // .3
      w.mustRelease('default/a');
      w.mustUpdate(globalPool('p', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.3' }]));
      expect(w.status('p')).toMatchObject({ total: 252, available: 251, allocatedHistory: {} });
    });
  });

  describe('delete', () => {
    it('is rejected while any address is allocated (PoolInUse), and accepted once all are released', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a');
      const e = w.send(w.cmd.deletePool('p'));
      expect(e).toMatchObject({ type: 'PoolRejected', data: { name: 'p', code: 'PoolInUse' } });
      expect(e.type === 'PoolRejected' && e.data.reason).toContain('default/a');
      w.mustRelease('default/a');
      // history does not block it
      expect(w.status('p').allocatedHistory).toEqual({ '10.0.0.2': 'default/a' });
      expect(w.send(w.cmd.deletePool('p'))).toMatchObject({
        type: 'PoolAccepted',
        data: { name: 'p', change: 'deleted' },
      });
      expect(w.state.pools.has('p')).toBe(false);
      expect(w.requestRejected('default/a').code).toBe('NoMatchingPool');
    });

    it('a deleted pool frees its ranges, scope and name for new pools; its history is gone', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a');
      w.mustRelease('default/a');
      w.send(w.cmd.deletePool('p'));
      w.mustCreate(globalPool('p', '10.0.0.0/24'));
      expect(w.status('p').allocatedHistory).toEqual({});
      expect(w.allocate('default/a')).toMatchObject({ ip: '10.0.0.2', fromHistory: false });
    });

    it('of a pool that does not exist is rejected with UnknownPool', () => {
      const w = new World();
      expect(w.send(w.cmd.deletePool('missing'))).toMatchObject({
        type: 'PoolRejected',
        data: { name: 'missing', code: 'UnknownPool' },
      });
    });
  });

  describe('create and update of existing / missing pools', () => {
    it('a re-create with the identical spec is accepted with no effect', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      w.ip('default/a');
      const before = poolViews(w.state);
      expect(w.send(w.cmd.createPool(globalPool('p', '10.0.0.0/24')))).toMatchObject({
        type: 'PoolAccepted',
        data: { name: 'p', change: 'created' },
      });
      expect(poolViews(w.state)).toEqual(before);
    });

    it('a re-create in the doc shorthand of the same canonical spec is identical', () => {
      const w = new World().mustCreate(
        pool('p', '10.0.0.0/24', { scope: [{ project: '', namespace: 'default', guestCluster: 'c' }] }),
      );
      w.mustCreate(pool('p', '10.0.0.0/24', { priority: 0, scope: { namespace: 'default', cluster: 'c' } }));
    });

    it('a re-create with a different spec is rejected with PoolExists and changes nothing', () => {
      const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
      const r = w.createRejected(globalPool('p', '10.0.0.0/23'));
      expect(r.code).toBe('PoolExists');
      expect(w.status('p').total).toBe(253);
    });

    it('an update of a pool that does not exist is rejected with UnknownPool', () => {
      const w = new World();
      expect(w.updateRejected(globalPool('p', '10.0.0.0/24')).code).toBe('UnknownPool');
      expect(w.state.pools.size).toBe(0);
    });

    it('a rejection carries the pool name and the causation of the input', () => {
      const w = new World();
      const c = w.cmd.updatePool(globalPool('p', '10.0.0.0/24'));
      expect(w.send(c)).toEqual({
        type: 'PoolRejected',
        data: {
          name: 'p',
          code: 'UnknownPool',
          reason: expect.any(String),
          causationSeq: c.meta.seq,
          causationId: c.meta.id,
        },
      });
    });

    it('an accepted create carries the canonical spec and the causation', () => {
      const w = new World();
      const c = w.cmd.createPool(
        pool('p', '10.0.0.0/24', { scope: { namespace: 'default', cluster: 'c' } }, { description: 'd' }),
      );
      expect(w.send(c)).toEqual({
        type: 'PoolAccepted',
        data: {
          name: 'p',
          change: 'created',
          spec: {
            description: 'd',
            ranges: [{ subnet: '10.0.0.0/24' }],
            selector: { priority: 0, scope: [{ project: '', namespace: 'default', guestCluster: 'c' }] },
          },
          causationSeq: c.meta.seq,
          causationId: c.meta.id,
        },
      });
    });
  });

  describe('shape of the IPPool object (InvalidEvent)', () => {
    it.each([
      ['no metadata', { spec: { ranges: [{ subnet: '10.0.0.0/24' }] } }],
      ['no name', { metadata: {}, spec: { ranges: [{ subnet: '10.0.0.0/24' }] } }],
      ['an invalid name', { metadata: { name: 'Bad_Name' }, spec: { ranges: [{ subnet: '10.0.0.0/24' }] } }],
      ['no spec', { metadata: { name: 'p' } }],
      ['a negative priority', pool('p', '10.0.0.0/24', { priority: -1 })],
      ['a fractional priority', pool('p', '10.0.0.0/24', { priority: 1.5 })],
      ['a string priority', pool('p', '10.0.0.0/24', { priority: '1' as unknown as number })],
      ['an unsupported apiVersion', { ...pool('p', '10.0.0.0/24'), apiVersion: 'v1' }],
      ['another kind', { ...pool('p', '10.0.0.0/24'), kind: 'Service' }],
      ['ranges not a list', { metadata: { name: 'p' }, spec: { ranges: { subnet: '10.0.0.0/24' } } }],
      [
        'cluster and guestCluster that disagree',
        pool('p', '10.0.0.0/24', { scope: [{ cluster: 'a', guestCluster: 'b' }] }),
      ],
      [
        'a non-string scope field',
        pool('p', '10.0.0.0/24', { scope: [{ namespace: 5 as unknown as string }] }),
      ],
      ['not an object', 'IPPool'],
    ])('rejects %s', (_what, body) => {
      expect(new World().createRejected(body).code).toBe('InvalidEvent');
    });

    it('accepts the doc page apiVersion, the canonical one, and none', () => {
      const w = new World();
      w.mustCreate({
        ...pool('a', '10.0.0.0/24', NS_DEFAULT),
        apiVersion: 'networking.harvesterhci.io/v1beta1',
      });
      w.mustCreate({
        ...pool('b', '10.0.1.0/24', { scope: [{ namespace: 'b' }] }),
        apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      });
      const { apiVersion: _drop, ...noVersion } = pool('c', '10.0.2.0/24', { scope: [{ namespace: 'c' }] });
      w.mustCreate(noVersion);
      expect(poolViews(w.state).map((v) => v.apiVersion)).toEqual(
        Array(3).fill('loadbalancer.harvesterhci.io/v1beta1'),
      );
    });
  });

  describe('as given/when/then over events', () => {
    const cmd = new Commands(500);
    const accepted = (wire: ReturnType<typeof pool>, seq: number): IpamEvent => ({
      type: 'PoolAccepted',
      data: {
        name: wire.metadata.name,
        change: 'created',
        spec: canonical(wire),
        causationSeq: seq,
        causationId: null,
      },
    });
    const a = pool('a', '10.0.0.0/24', NS_DEFAULT);

    it('given pool a, when an overlapping pool b is created, then PoolRejected RangeOverlap naming a', () => {
      const c = cmd.createPool(pool('b', '10.0.0.128/25', { scope: [{ namespace: 'b' }] }));
      given(accepted(a, 1))
        .when(c)
        .then({
          type: 'PoolRejected',
          data: {
            name: 'b',
            code: 'RangeOverlap',
            reason: expect.stringContaining('pool "a"') as unknown as string,
            causationSeq: c.meta.seq,
            causationId: c.meta.id,
          },
        });
    });

    it('given pool a holding an address, when a is deleted, then PoolRejected PoolInUse; once released, PoolAccepted deleted', () => {
      const allocated: IpamEvent = {
        type: 'IPAllocated',
        data: {
          loadBalancer: 'default/x',
          ipPool: 'a',
          ip: '10.0.0.2',
          mask: '255.255.255.0',
          prefixLength: 24,
          gateway: '10.0.0.1',
          fromHistory: false,
          causationSeq: 2,
          causationId: null,
        },
      };
      const released: IpamEvent = {
        type: 'IPReleased',
        data: { loadBalancer: 'default/x', ipPool: 'a', ip: '10.0.0.2', causationSeq: 3, causationId: null },
      };
      const c = cmd.deletePool('a');
      expect(given(accepted(a, 1), allocated).when(c).events).toMatchObject([
        { type: 'PoolRejected', data: { name: 'a', code: 'PoolInUse' } },
      ]);
      given(accepted(a, 1), allocated, released)
        .when(c)
        .then({
          type: 'PoolAccepted',
          data: { name: 'a', change: 'deleted', causationSeq: c.meta.seq, causationId: c.meta.id },
        });
    });
  });
});
