/**
 * semantics.md section 2, "IPv6 done right": a /64 or larger is a normal pool with exact totals, and
 * memory grows with the number of allocations, not with the size of a range.
 */
import { count, fold, formatAddress, holdingOf, poolStatus } from '../src/index.js';
import { globalPool, pool, World } from './support.js';

const TWO_64 = 1n << 64n;
const TWO_80 = 1n << 80n;

describe('IPv6: large pools', () => {
  it('a /64 allocates ascending from ::2, and counts exactly (decimal strings beyond 2^53)', () => {
    const w = new World().mustCreate(globalPool('v6', '2001:db8:1:2::/64'));
    // ::1 is the default gateway; the last address is included
    expect(w.status('v6')).toMatchObject({
      total: (TWO_64 - 2n).toString(),
      available: '18446744073709551614',
      lastAllocated: '',
    });
    expect(w.allocate('default/a')).toMatchObject({
      ip: '2001:db8:1:2::2',
      gateway: '2001:db8:1:2::1',
      prefixLength: 64,
      mask: 'ffff:ffff:ffff:ffff::',
    });
    expect(w.ip('default/b')).toBe('2001:db8:1:2::3');
    expect(w.ip('default/c')).toBe('2001:db8:1:2::4');
    expect(w.status('v6')).toMatchObject({
      total: '18446744073709551614',
      available: '18446744073709551611',
    });
    w.mustRelease('default/b');
    expect(w.status('v6')).toMatchObject({
      available: '18446744073709551612',
      allocatedHistory: { '2001:db8:1:2::3': 'default/b' },
      allocated: { '2001:db8:1:2::2': 'default/a', '2001:db8:1:2::4': 'default/c' },
    });
    expect(w.ip('default/d')).toBe('2001:db8:1:2::5');
    expect(w.allocate('default/b')).toMatchObject({ ip: '2001:db8:1:2::3', fromHistory: true });
    expect(w.status('v6').available).toBe((TWO_64 - 2n - 4n).toString());
  });

  it('a /48 allocates, releases and counts exactly; the last address of the subnet is allocatable and next-fit wraps from it', () => {
    const w = new World().mustCreate(pool('v6', 'fd00:1:2::/48', { scope: [{ namespace: 'default' }] }));
    const total = TWO_80 - 2n;
    expect(total.toString()).toBe('1208925819614629174706174');
    expect(w.status('v6')).toMatchObject({ total: total.toString(), available: total.toString() });
    const last = 'fd00:1:2:ffff:ffff:ffff:ffff:ffff';
    expect(w.allocate('default/a', { ip: last })).toMatchObject({
      ip: last,
      prefixLength: 48,
      mask: 'ffff:ffff:ffff::',
      gateway: 'fd00:1:2::1',
    });
    expect(w.ip('default/b')).toBe('fd00:1:2::2'); // wrapped from the last address
    expect(w.ip('default/c', { ip: 'fd00:1:2:8000::' })).toBe('fd00:1:2:8000::');
    expect(w.ip('default/d')).toBe('fd00:1:2:8000::1');
    expect(w.status('v6').available).toBe((total - 4n).toString());
    for (const lb of ['a', 'b', 'c', 'd']) w.mustRelease(`default/${lb}`);
    expect(w.status('v6')).toMatchObject({ available: total.toString(), allocated: {} });
    expect(Object.keys(w.status('v6').allocatedHistory).sort()).toEqual(
      ['fd00:1:2:8000::', 'fd00:1:2:8000::1', 'fd00:1:2::2', last].sort(),
    );
    // addresses far from the start (past 2^53) come back from history like any other
    expect(w.allocate('default/c')).toMatchObject({ ip: 'fd00:1:2:8000::', fromHistory: true });
    expect(w.allocate('default/a')).toMatchObject({ ip: last, fromHistory: true });
    expect(w.status('v6').allocated).toEqual({ 'fd00:1:2:8000::': 'default/c', [last]: 'default/a' });
    // and a replay of the log reaches the same status
    expect(poolStatus(fold(w.log).pools.get('v6')!)).toEqual(w.status('v6'));
  });

  it('the fold places an address the same way whether its offset is a number or a bigint: across a 2^80 boundary, near 2^52, past 2^53', () => {
    // a /47 spans two values of the top 48 bits; in a /48, offsets reach 2^80
    const w = new World()
      .mustCreate(pool('x', 'fd00:0:0::/47', { scope: [{ namespace: 'x' }] }))
      .mustCreate(pool('y', 'fd00:1:2::/48', { scope: [{ namespace: 'y' }] }));
    const picks: Array<[string, string, string]> = [
      ['x/a', 'fd00:0:1::5', 'fd00:0:1::6'], // the upper half of the /47
      ['x/b', 'fd00::ffff:ffff:ffff:ffff:ffff', 'fd00:0:1::'], // the last address below the boundary
      ['y/a', 'fd00:1:2:0:f:ffff:0:7', 'fd00:1:2:0:f:ffff:0:8'], // offset 2^52 - 2^32 + 7
      ['y/b', 'fd00:1:2:0:10::7', 'fd00:1:2:0:10::8'], // offset 2^52 + 7
      ['y/c', 'fd00:1:2:0:20::', 'fd00:1:2:0:20::1'], // offset 2^53
      ['y/d', 'fd00:1:2:ffff:ffff:ffff:ffff:fffe', 'fd00:1:2:ffff:ffff:ffff:ffff:ffff'],
    ];
    for (const [lb, ip, next] of picks) {
      const [ns] = lb.split('/');
      expect(w.ip(lb, { ip })).toBe(ip);
      // next-fit goes on right after it (lastAllocated), and the address is taken
      expect(w.ip(`${lb}-next`)).toBe(next);
      expect(w.requestRejected(`${lb}-same`, { ip }).code).toBe('AddressUnavailable');
      expect(w.requestRejected(`${lb}-same`, { ip: next }).code).toBe('AddressUnavailable');
      expect(poolStatus(fold(w.log).pools.get(ns)!)).toEqual(w.status(ns));
    }
    for (const [lb] of picks) w.mustRelease(lb);
    const replayed = fold(w.log);
    for (const ns of ['x', 'y']) expect(poolStatus(replayed.pools.get(ns)!)).toEqual(w.status(ns));
    expect(Object.keys(w.status('y').allocatedHistory)).toHaveLength(4);
    // back from history, in the live state and in the replayed one
    for (const [lb, ip] of picks) {
      expect(w.allocate(lb)).toMatchObject({ ip, fromHistory: true });
      expect(holdingOf(replayed, lb)).toBeUndefined();
    }
    const again = fold(w.log);
    for (const [lb, ip] of picks) expect(formatAddress(holdingOf(again, lb)!.ip)).toBe(ip);
    for (const ns of ['x', 'y']) expect(poolStatus(again.pools.get(ns)!)).toEqual(w.status(ns));
  });

  it('memory follows the allocations, not the size: the free set of a /48 stays a few intervals', () => {
    const w = new World().mustCreate(globalPool('v6', 'fd00:1:2::/48'));
    for (let i = 0; i < 500; i++) w.ip(`default/lb-${i}`);
    const state = w.state.pools.get('v6')!;
    expect(state.free[0].intervalCount).toBe(1);
    expect(state.free[0].size).toBe(TWO_80 - 2n - 500n);
    // holders live in pages of 32 addresses: ::2 to ::501 (offsets 2 to 501) fill pages 0 to 15
    expect(state.tables[0].pageCount).toBe(16);
    for (let i = 0; i < 500; i += 2) w.mustRelease(`default/lb-${i}`);
    expect(state.free[0].intervalCount).toBe(251);
    expect(w.status('v6').available).toBe((TWO_80 - 2n - 250n).toString());
  });

  it('a range at the very end of a /64 (rangeStart near the last address) holds exactly those addresses', () => {
    const w = new World().mustCreate(
      globalPool('v6', [{ subnet: 'fd00::/64', rangeStart: 'fd00::ffff:ffff:ffff:fffe' }]),
    );
    expect(w.status('v6').total).toBe(2);
    expect(w.drain('default')).toEqual(['fd00::ffff:ffff:ffff:fffe', 'fd00::ffff:ffff:ffff:ffff']);
  });

  it('counts switch from numbers to exact decimal strings above Number.MAX_SAFE_INTEGER', () => {
    expect(count(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(count(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toBe('9007199254740992');
    // a /75 holds 2^53 - 2 addresses (a number), a /74 2^54 - 2 (a string)
    const w = new World()
      .mustCreate(pool('a', 'fd00:a::/75', { scope: [{ namespace: 'a' }] }))
      .mustCreate(pool('b', 'fd00:b::/74', { scope: [{ namespace: 'b' }] }));
    expect(w.status('a').total).toBe(2 ** 53 - 2);
    expect(w.status('b').total).toBe(((1n << 54n) - 2n).toString());
  });

  it('a pool can be widened from a /64 to a /48 while holding addresses; counts stay exact', () => {
    const w = new World().mustCreate(globalPool('v6', 'fd00:1:2:3::/64'));
    w.ip('default/a', { ip: 'fd00:1:2:3::abcd' });
    w.mustUpdate(globalPool('v6', 'fd00:1:2::/48'));
    expect(w.status('v6')).toMatchObject({
      total: (TWO_80 - 2n).toString(),
      available: (TWO_80 - 3n).toString(),
    });
    expect(w.state.pools.get('v6')!.free[0].intervalCount).toBe(2);
    // and a replay of the log gives the same status
    expect(fold(w.log).pools.get('v6')!.free[0].size).toBe(TWO_80 - 3n);
  });
});
