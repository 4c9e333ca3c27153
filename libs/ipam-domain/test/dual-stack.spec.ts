/**
 * semantics.md section 5, dual-stack: spec.ipFamilies asks for one address per family, from the pools
 * the rules select for each family, in one decision (`addresses`); a family that cannot be served
 * allocates nothing (FamilyUnavailable naming it); history per family; LBDeleted releases both.
 */
import { globalPool, pool, World } from './support.js';

const NS_A = { scope: [{ project: '*', namespace: 'a', guestCluster: '*' }] };
const BOTH = ['IPv4', 'IPv6'];

describe('dual-stack', () => {
  it("both families from one mixed pool: the first family's fields, and addresses for all", () => {
    const w = new World().mustCreate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/120' }]));
    const d = w.allocate('a/lb', { ipFamilies: ['IPv6', 'IPv4'] });
    expect(d).toMatchObject({ ipPool: 'g', ip: 'fd00::2', prefixLength: 120, gateway: 'fd00::1' });
    expect(d.addresses).toEqual([
      {
        ip: 'fd00::2',
        mask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00',
        prefixLength: 120,
        gateway: 'fd00::1',
        ipPool: 'g',
        fromHistory: false,
      },
      {
        ip: '10.0.0.2',
        mask: '255.255.255.0',
        prefixLength: 24,
        gateway: '10.0.0.1',
        ipPool: 'g',
        fromHistory: false,
      },
    ]);
    expect(w.status('g')).toMatchObject({ available: 253 + 254 - 2 });
  });

  it('each family from the pool selection picks for it', () => {
    const w = new World()
      .mustCreate(pool('v4', '10.1.0.0/24', { ...NS_A, priority: 2 }))
      .mustCreate(globalPool('v6', 'fd00::/120'));
    const d = w.allocate('a/lb', { ipFamilies: BOTH });
    expect(d.addresses?.map((a) => [a.ipPool, a.ip])).toEqual([
      ['v4', '10.1.0.2'],
      ['v6', 'fd00::2'],
    ]);
  });

  it('a family no pool serves: FamilyUnavailable naming it, and nothing is allocated', () => {
    const w = new World().mustCreate(globalPool('v4', '10.1.0.0/24'));
    const r = w.requestRejected('a/lb', { ipFamilies: BOTH });
    expect(r.code).toBe('FamilyUnavailable');
    expect(r.reason).toMatch(/^IPv6: /);
    expect(w.status('v4')).toMatchObject({ available: 253, allocated: {}, lastAllocated: '' });
  });

  it('a single family considers only pools and ranges of it', () => {
    const w = new World()
      .mustCreate(pool('v4', '10.1.0.0/24', { ...NS_A, priority: 2 }))
      .mustCreate(globalPool('mixed', [{ subnet: '10.2.0.0/24' }, { subnet: 'fd00::/120' }]));
    const d = w.allocate('a/lb', { ipFamilies: ['IPv6'] });
    expect(d).toMatchObject({ ipPool: 'mixed', ip: 'fd00::2' });
    expect('addresses' in d).toBe(false);
    // without ipFamilies, as today: the selected pool, whatever its family
    expect(w.allocate('a/plain')).toMatchObject({ ipPool: 'v4', ip: '10.1.0.2' });
  });

  it('an exhausted family is FamilyUnavailable; spec.ipPool without the family too', () => {
    const w = new World().mustCreate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/127' }]));
    // fd00::/127: one address (fd00::)
    w.allocate('a/one', { ipFamilies: BOTH });
    expect(w.requestRejected('a/two', { ipFamilies: BOTH }).code).toBe('FamilyUnavailable');
    const v4only = new World().mustCreate(globalPool('v4', '10.1.0.0/24'));
    expect(v4only.requestRejected('a/x', { ipFamilies: ['IPv6'], ipPool: 'v4' }).code).toBe(
      'FamilyUnavailable',
    );
  });

  it('spec.ip fixes its family; one of a family not asked for is AddressUnavailable', () => {
    const w = new World().mustCreate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/120' }]));
    expect(w.allocate('a/lb', { ipFamilies: BOTH, ip: 'fd00::9' }).addresses?.map((a) => a.ip)).toEqual([
      '10.0.0.2',
      'fd00::9',
    ]);
    expect(w.requestRejected('a/x', { ipFamilies: ['IPv4'], ip: 'fd00::7' }).code).toBe('AddressUnavailable');
  });

  it('LBDeleted releases both (addresses); a return gets both back from history, per family', () => {
    const w = new World().mustCreate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/120' }]));
    w.allocate('a/lb', { ipFamilies: BOTH });
    w.allocate('a/other', { ipFamilies: BOTH });
    expect(w.release('a/lb')).toMatchObject({
      type: 'IPReleased',
      data: {
        loadBalancer: 'a/lb',
        ip: '10.0.0.2',
        addresses: [
          { ip: '10.0.0.2', ipPool: 'g' },
          { ip: 'fd00::2', ipPool: 'g' },
        ],
      },
    });
    expect(w.status('g').allocatedHistory).toEqual({ 'fd00::2': 'a/lb', '10.0.0.2': 'a/lb' });
    const back = w.allocate('a/lb', { ipFamilies: ['IPv6', 'IPv4'] });
    expect(back.addresses?.map((a) => [a.ip, a.fromHistory])).toEqual([
      ['fd00::2', true],
      ['10.0.0.2', true],
    ]);
  });

  it('ipFamilies that are not IPv4/IPv6, or repeat one, are InvalidEvent', () => {
    const w = new World().mustCreate(globalPool('g', '10.0.0.0/24'));
    expect(w.requestRejected('a/x', { ipFamilies: ['IPv5'] }).code).toBe('InvalidEvent');
    expect(w.requestRejected('a/y', { ipFamilies: ['IPv4', 'IPv4'] }).code).toBe('InvalidEvent');
  });

  it('sharing a dual-stack key shares both addresses; a later holder asking for other families conflicts', () => {
    const w = new World().mustCreate(globalPool('g', [{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/120' }]));
    w.allocate('a/web', { ipFamilies: BOTH, sharingKey: 'k' });
    expect(w.allocate('a/dns', { sharingKey: 'k' })).toMatchObject({
      ip: '10.0.0.2',
      addresses: [{ ip: '10.0.0.2' }, { ip: 'fd00::2' }],
      sharedWith: ['a/web'],
    });
    expect(w.requestRejected('a/v4', { ipFamilies: ['IPv4'], sharingKey: 'k' }).code).toBe(
      'SharingKeyConflict',
    );
  });
});
