/**
 * AddressTable: holder and history per address of a range, by offset, in pages created on use.
 */
import { AddressTable } from '../src/index.js';

describe('AddressTable', () => {
  it.each([
    ['pages in a map (a large range)', () => new AddressTable<string>()],
    ['pages in an array (a range of 256)', () => new AddressTable<string>(256n)],
  ])('an offset given as a number or as a bigint is the same slot: %s', (_name, make) => {
    const t = make();
    expect(t.hold(70, 'ns/a')).toBeNull();
    expect(t.holder(70n)).toBe('ns/a');
    t.releaseTo(70n, 9);
    expect([t.holder(70), t.history(70), t.historySeq(70n)]).toEqual([null, 'ns/a', 9]);
    // taking the address erases its history entry, and says whose it was
    expect(t.hold(70n, 'ns/b')).toBe('ns/a');
    expect([t.holder(70), t.history(70n)]).toEqual(['ns/b', null]);
    t.hold(255, 'ns/last');
    t.setHistory(3n, 'ns/first', 4);
    expect(t.entries().map((e) => [e.offset, e.holder ?? e.history])).toEqual([
      [3n, 'ns/first'],
      [70n, 'ns/b'],
      [255n, 'ns/last'],
    ]);
    expect(t.pageCount).toBe(3);
  });

  it('holds offsets past 2^53 exactly, and lists every used address in offset order', () => {
    const t = new AddressTable<string>();
    const far = (1n << 79n) + 5n;
    const farther = (1n << 79n) + 40n;
    const edge = 2n ** 53n - 1n;
    expect(t.setHistory(farther, 'ns/z', 3)).toBeNull();
    t.hold(far, 'ns/far');
    t.hold(far + 1n, 'ns/next');
    t.hold(edge, 'ns/edge');
    t.hold(31, 'ns/low');
    t.hold(32, 'ns/page1');
    expect(t.holder(far)).toBe('ns/far');
    expect(t.holder(far + 32n)).toBeNull();
    expect(t.history(farther)).toBe('ns/z');
    expect(t.entries().map((e) => [e.offset, e.holder ?? e.history])).toEqual([
      [31n, 'ns/low'],
      [32n, 'ns/page1'],
      [edge, 'ns/edge'],
      [far, 'ns/far'],
      [far + 1n, 'ns/next'],
      [farther, 'ns/z'],
    ]);
    // pages of 32: 0, 1, the one of 2^53 - 1, and two past 2^79
    expect(t.pageCount).toBe(5);
  });
});
