/**
 * semantics.md section 2: which addresses of a range are allocatable, and the totals from Harvester's
 * own tests. Each total is checked twice: the status total, and by draining the pool (the exact set
 * of addresses handed out).
 */
import { loadBalancerView } from '../src/index.js';
import { globalPool, RangeIn, v4Span, World } from './support.js';

function worldWith(ranges: RangeIn[] | string): World {
  return new World().mustCreate(globalPool('p', ranges));
}

describe('section 2: allocatable addresses and totals', () => {
  it('a /24 with defaults has 253 addresses: .2-.254 (.0 network, .1 gateway, .255 broadcast)', () => {
    const w = worldWith('192.168.10.0/24');
    expect(w.status('p')).toMatchObject({ total: 253, available: 253, lastAllocated: '' });
    const ips = w.drain('default');
    expect(ips).toEqual(v4Span('192.168.10', 2, 254));
    expect(w.status('p')).toMatchObject({ total: 253, available: 0 });
  });

  it('.1-.10 with gateway .11 (outside the range) has 10 addresses, and the gateway is still reported', () => {
    const w = worldWith([
      {
        subnet: '192.168.0.0/24',
        rangeStart: '192.168.0.1',
        rangeEnd: '192.168.0.10',
        gateway: '192.168.0.11',
      },
    ]);
    expect(w.status('p').total).toBe(10);
    const first = w.allocate('default/first');
    expect(first).toMatchObject({
      ip: '192.168.0.1',
      gateway: '192.168.0.11',
      mask: '255.255.255.0',
      prefixLength: 24,
    });
    expect([first.ip, ...w.drain('default')]).toEqual(v4Span('192.168.0', 1, 10));
  });

  it('.1-.10 with the default gateway (.1) has 9 addresses', () => {
    const w = worldWith([{ subnet: '192.168.0.0/24', rangeStart: '192.168.0.1', rangeEnd: '192.168.0.10' }]);
    expect(w.status('p').total).toBe(9);
    expect(w.drain('default')).toEqual(v4Span('192.168.0', 2, 10));
  });

  it('rangeStart .251 in a /24 has 4 addresses (.251-.254)', () => {
    const w = worldWith([{ subnet: '192.168.0.0/24', rangeStart: '192.168.0.251' }]);
    expect(w.status('p').total).toBe(4);
    expect(w.drain('default')).toEqual(v4Span('192.168.0', 251, 254));
  });

  it('fd00::/120 has 254 addresses: ::2-::ff (the last IPv6 address is included)', () => {
    const w = worldWith('fd00::/120');
    expect(w.status('p').total).toBe(254);
    const ips = w.drain('default');
    expect(ips).toHaveLength(254);
    expect(ips[0]).toBe('fd00::2');
    expect(ips[253]).toBe('fd00::ff');
    expect(loadBalancerView(w.state, 'default/lb-0')).toEqual({
      loadBalancer: 'default/lb-0',
      ipPool: 'p',
      ip: 'fd00::2',
      mask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00',
      prefixLength: 120,
      gateway: 'fd00::1',
    });
  });

  it('10.0.0.0/29 has 5 addresses (.2-.6)', () => {
    const w = worldWith('10.0.0.0/29');
    expect(w.status('p').total).toBe(5);
    expect(w.drain('default')).toEqual(v4Span('10.0.0', 2, 6));
  });

  it('192.168.0.0/30 has 1 address (.2)', () => {
    const w = worldWith('192.168.0.0/30');
    expect(w.status('p').total).toBe(1);
    expect(w.drain('default')).toEqual(['192.168.0.2']);
  });

  it('a /32 has its single address, with no gateway (null)', () => {
    const w = worldWith('10.9.8.7/32');
    expect(w.status('p').total).toBe(1);
    expect(w.allocate('default/a')).toMatchObject({
      ip: '10.9.8.7',
      gateway: null,
      mask: '255.255.255.255',
      prefixLength: 32,
      fromHistory: false,
    });
    expect(w.requestRejected('default/b').code).toBe('PoolExhausted');
  });

  it('a /31 is .0-.1 with gateway .1, so only .0 is allocatable', () => {
    const w = worldWith('10.0.0.4/31');
    expect(w.status('p').total).toBe(1);
    expect(w.allocate('default/a')).toMatchObject({
      ip: '10.0.0.4',
      gateway: '10.0.0.5',
      prefixLength: 31,
      mask: '255.255.255.254',
    });
    expect(w.requestRejected('default/b').code).toBe('PoolExhausted');
  });

  it('a /128 behaves like a /32: its single address, no gateway (deviation from Harvester)', () => {
    const w = worldWith('fd00::5/128');
    expect(w.status('p').total).toBe(1);
    expect(w.allocate('default/a')).toMatchObject({
      ip: 'fd00::5',
      gateway: null,
      prefixLength: 128,
      mask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    });
    expect(w.requestRejected('default/b').code).toBe('PoolExhausted');
  });

  it('host bits of the subnet are masked off (192.168.10.7/24 == 192.168.10.0/24)', () => {
    const w = worldWith('192.168.10.7/24');
    expect(w.status('p').total).toBe(253);
    expect(w.allocate('default/a')).toMatchObject({ ip: '192.168.10.2', gateway: '192.168.10.1' });
  });

  it('an explicit gateway inside the range is skipped and reported', () => {
    const w = worldWith([
      { subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.13', gateway: '10.0.0.11' },
    ]);
    expect(w.status('p').total).toBe(3);
    const a = w.allocate('default/a');
    expect(a.gateway).toBe('10.0.0.11');
    expect([a.ip, ...w.drain('default')]).toEqual(['10.0.0.10', '10.0.0.12', '10.0.0.13']);
  });

  it('a pool may mix IPv4 and IPv6 ranges; each allocation reports its own range mask and gateway', () => {
    const w = worldWith([{ subnet: '10.0.0.0/30' }, { subnet: 'fd00:1::/126', gateway: 'fd00:1::3' }]);
    // 10.0.0.2; fd00:1::1, fd00:1::2 (::3 is the gateway)
    expect(w.status('p').total).toBe(3);
    expect(w.allocate('default/a')).toMatchObject({
      ip: '10.0.0.2',
      mask: '255.255.255.252',
      prefixLength: 30,
      gateway: '10.0.0.1',
    });
    expect(w.allocate('default/b')).toMatchObject({
      ip: 'fd00:1::1',
      mask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc',
      prefixLength: 126,
      gateway: 'fd00:1::3',
    });
    expect(w.allocate('default/c')).toMatchObject({ ip: 'fd00:1::2' });
    expect(w.requestRejected('default/d').code).toBe('PoolExhausted');
    expect(w.status('p')).toMatchObject({ total: 3, available: 0 });
  });

  it('the pool total is the sum of its ranges', () => {
    const w = worldWith([{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/30' }, { subnet: 'fd00::/120' }]);
    expect(w.status('p').total).toBe(5 + 1 + 254);
  });
});
