/**
 * semantics.md section 2, excluded addresses: a range's `exclude` (addresses, a-b ranges, CIDRs) is
 * never allocated and not counted; it is validated like the range's other addresses (InvalidRange);
 * an update may not exclude an address in use (ExcludesAllocated).
 */
import { IpamEvent } from '../src/index.js';
import { canonical, Commands, given, globalPool, World } from './support.js';

const EXCLUDING = globalPool('p', [
  { subnet: '10.0.0.0/24', exclude: ['10.0.0.3', '10.0.0.10-10.0.0.20', '10.0.0.64/28'] },
]);

describe('excluded addresses are never allocated and not counted', () => {
  it('total and available leave out every excluded address (253 - 1 - 11 - 16 = 225); status lists them', () => {
    const w = new World().mustCreate(EXCLUDING);
    expect(w.status('p')).toEqual({
      total: 225,
      available: 225,
      lastAllocated: '',
      allocated: {},
      allocatedHistory: {},
      excluded: ['10.0.0.3', '10.0.0.10-10.0.0.20', '10.0.0.64-10.0.0.79'],
    });
  });

  it('next-fit steps over them: .2, then .4 (not .3), and .21 after .9', () => {
    const w = new World().mustCreate(EXCLUDING);
    const ips = Array.from({ length: 9 }, (_, i) => w.ip(`default/lb-${i}`));
    expect(ips).toEqual([
      '10.0.0.2',
      '10.0.0.4',
      '10.0.0.5',
      '10.0.0.6',
      '10.0.0.7',
      '10.0.0.8',
      '10.0.0.9',
      '10.0.0.21',
      '10.0.0.22',
    ]);
    expect(w.status('p').available).toBe(225 - 9);
  });

  it('a requested spec.ip that is excluded is AddressUnavailable, and the reason says excluded', () => {
    const w = new World().mustCreate(EXCLUDING);
    const r = w.requestRejected('default/a', { ip: '10.0.0.15' });
    expect(r.code).toBe('AddressUnavailable');
    expect(r.reason).toContain('excluded');
  });

  it('a range that excludes every address is exhausted at once', () => {
    const w = new World().mustCreate(globalPool('p', [{ subnet: '10.0.0.0/29', exclude: ['10.0.0.0/29'] }]));
    expect(w.status('p')).toMatchObject({ total: 0, available: 0, excluded: ['10.0.0.1-10.0.0.6'] });
    expect(w.requestRejected('default/a').code).toBe('PoolExhausted');
  });

  it('the gateway inside an exclusion is counted once', () => {
    const w = new World().mustCreate(
      globalPool('p', [{ subnet: '10.0.0.0/29', exclude: ['10.0.0.1-10.0.0.2'] }]),
    );
    // .1-.6, gateway .1: 6 - 2 = 4
    expect(w.status('p')).toMatchObject({ total: 4, excluded: ['10.0.0.1-10.0.0.2'] });
  });

  it('IPv6 ranges exclude the same way', () => {
    const w = new World().mustCreate(
      globalPool('p', [{ subnet: 'fd00::/120', exclude: ['fd00::2-fd00::ff'] }]),
    );
    // fd00::1-fd00::ff, gateway ::1, ::2-::ff excluded: nothing left
    expect(w.status('p')).toMatchObject({ total: 0, excluded: ['fd00::2-fd00::ff'] });
  });

  it('the accepted spec carries exclude as written; a pool without it carries none', () => {
    const w = new World();
    const e = w.send(w.cmd.createPool(EXCLUDING));
    expect(e).toMatchObject({
      type: 'PoolAccepted',
      data: { spec: { ranges: [{ subnet: '10.0.0.0/24', exclude: EXCLUDING.spec.ranges[0].exclude }] } },
    });
    // exclude is a known field: no unknown-field warning
    expect(e.type === 'PoolAccepted' && 'warnings' in e.data).toBe(false);
    const plain = w.send(w.cmd.createPool(globalPool('q', '10.1.0.0/24', { priority: 0 })));
    expect(JSON.stringify(plain)).not.toContain('exclude');
  });
});

describe('exclude entries are validated (InvalidRange, naming the entry)', () => {
  it.each([
    ['10.0.1.5', 'not inside the subnet'],
    ['10.0.0.250-10.0.1.2', 'not inside the subnet'],
    ['10.0.0.0/23', 'not inside the subnet'],
    ['fd00::5', 'is not IPv4'],
    ['10.0.0.20-10.0.0.10', 'ends before it starts'],
    ['10.0.0.x', 'exclude[0]'],
    ['10.0.0.1-10.0.0.2-10.0.0.3', 'exclude[0]'],
  ])('%s: InvalidRange (%s)', (entry, words) => {
    const w = new World();
    const r = w.createRejected(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: [entry] }]));
    expect(r.code).toBe('InvalidRange');
    expect(r.reason).toContain('spec.ranges[0].exclude[0]');
    expect(r.reason).toContain(words);
  });

  it('exclude that is not a list, or an entry that is not a string: InvalidEvent', () => {
    const w = new World();
    expect(
      w.createRejected(
        globalPool('p', [{ subnet: '10.0.0.0/24', exclude: '10.0.0.5' as unknown as string[] }]),
      ).code,
    ).toBe('InvalidEvent');
    expect(
      w.createRejected(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: [5] as unknown as string[] }]))
        .code,
    ).toBe('InvalidEvent');
  });
});

describe('updates and exclusions', () => {
  const cmd = new Commands(100);
  const created: IpamEvent = {
    type: 'PoolAccepted',
    data: {
      name: 'p',
      change: 'created',
      spec: canonical(globalPool('p', '10.0.0.0/24')),
      causationSeq: 1,
      causationId: 'c1',
    },
  };
  const held: IpamEvent = {
    type: 'IPAllocated',
    data: {
      loadBalancer: 'default/a',
      ipPool: 'p',
      ip: '10.0.0.2',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '10.0.0.1',
      fromHistory: false,
      causationSeq: 2,
      causationId: 'c2',
    },
  };

  it('given .2 is held, when an update excludes .2, then ExcludesAllocated naming it and its holder', () => {
    const [e] = given(created, held).when(
      cmd.updatePool(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: ['10.0.0.0/30'] }])),
    ).events;
    expect(e).toMatchObject({ type: 'PoolRejected', data: { name: 'p', code: 'ExcludesAllocated' } });
    expect(e.type === 'PoolRejected' && e.data.reason).toContain('10.0.0.2 is allocated to default/a');
  });

  it('given .2 is held, an update excluding other addresses is accepted and they leave the free set', () => {
    const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
    expect(w.ip('default/a')).toBe('10.0.0.2');
    w.mustUpdate(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: ['10.0.0.3-10.0.0.9'] }]));
    expect(w.status('p')).toMatchObject({
      total: 246,
      available: 245,
      allocated: { '10.0.0.2': 'default/a' },
    });
    expect(w.ip('default/b')).toBe('10.0.0.10');
    // and lifting the exclusion gives the addresses back
    w.mustUpdate(globalPool('p', '10.0.0.0/24'));
    expect(w.status('p')).toMatchObject({ total: 253, available: 251 });
    expect(w.status('p').excluded).toBeUndefined();
  });

  it('history on an address that becomes excluded stays (like a gateway), and is never handed back', () => {
    const w = new World().mustCreate(globalPool('p', '10.0.0.0/24'));
    w.ip('default/a');
    w.mustRelease('default/a');
    w.mustUpdate(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: ['10.0.0.2'] }]));
    expect(w.status('p').allocatedHistory).toEqual({ '10.0.0.2': 'default/a' });
    expect(w.allocate('default/a')).toMatchObject({ ip: '10.0.0.3', fromHistory: false });
  });

  it('a history import naming an excluded address is AddressUnavailable', () => {
    const w = new World().mustCreate(EXCLUDING);
    const e = w.send(w.cmd.importHistory('p', [{ ip: '10.0.0.3', loadBalancer: 'default/a' }]));
    expect(e).toMatchObject({ type: 'PoolRejected', data: { code: 'AddressUnavailable' } });
  });

  it('a re-create with the same exclusions is the identical spec; different ones are PoolExists', () => {
    const w = new World().mustCreate(EXCLUDING);
    w.mustCreate(EXCLUDING);
    expect(w.createRejected(globalPool('p', [{ subnet: '10.0.0.0/24', exclude: ['10.0.0.3'] }])).code).toBe(
      'PoolExists',
    );
  });
});
