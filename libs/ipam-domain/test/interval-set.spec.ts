/**
 * IntervalSet against a brute-force Set<bigint> model, over random operation sequences.
 */
import fc from 'fast-check';
import { IntervalSet } from '../src/index.js';

const MAX = 63;
const key = fc.integer({ min: 0, max: MAX }).map(BigInt);

type Op =
  | { op: 'add'; x: bigint }
  | { op: 'addRange'; a: bigint; b: bigint }
  | { op: 'delete'; x: bigint }
  | { op: 'clone' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  key.map((x) => ({ op: 'add' as const, x })),
  fc.tuple(key, key).map(([a, b]) => ({ op: 'addRange' as const, a, b })),
  key.map((x) => ({ op: 'delete' as const, x })),
  key.map((x) => ({ op: 'delete' as const, x })),
  fc.constant({ op: 'clone' as const }),
);

function checkAgainst(set: IntervalSet, model: Set<bigint>): void {
  expect(set.size).toBe(BigInt(model.size));
  expect(set.isEmpty()).toBe(model.size === 0);
  const sorted = [...model].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  expect(set.first()).toBe(sorted.length > 0 ? sorted[0] : null);
  // intervals: sorted, disjoint, non-adjacent, and exactly the members
  const intervals = [...set.intervals()];
  const members: bigint[] = [];
  let ordered = true;
  let prevEnd: bigint | null = null;
  for (const [s, e] of intervals) {
    if (s > e || (prevEnd !== null && s <= prevEnd + 1n)) ordered = false;
    for (let x = s; x <= e; x++) members.push(x);
    prevEnd = e;
  }
  expect(ordered).toBe(true);
  expect(members).toEqual(sorted);
  expect(set.intervalCount).toBe(intervals.length);
  const probes: bigint[] = [];
  for (let x = -1n; x <= BigInt(MAX) + 1n; x++) probes.push(x);
  expect(probes.map((x) => set.has(x))).toEqual(probes.map((x) => model.has(x)));
  expect(probes.map((x) => set.firstAtOrAfter(x))).toEqual(
    probes.map((x) => sorted.find((m) => m >= x) ?? null),
  );
}

describe('IntervalSet', () => {
  it('behaves like a Set<bigint> under random add / addRange / delete', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let set = new IntervalSet();
        const model = new Set<bigint>();
        for (const o of ops) {
          switch (o.op) {
            case 'add': {
              const fresh = !model.has(o.x);
              expect(set.add(o.x)).toBe(fresh);
              model.add(o.x);
              break;
            }
            case 'addRange': {
              let added = 0n;
              for (let x = o.a; x <= o.b; x++) {
                if (!model.has(x)) added++;
                model.add(x);
              }
              expect(set.addRange(o.a, o.b)).toBe(added);
              break;
            }
            case 'delete': {
              expect(set.delete(o.x)).toBe(model.has(o.x));
              model.delete(o.x);
              break;
            }
            case 'clone': {
              // a clone is independent of the original
              const copy = set.clone();
              set.add(0n);
              set.delete(BigInt(MAX));
              set = copy;
              break;
            }
          }
        }
        checkAgainst(set, model);
      }),
      { numRuns: 200 },
    );
  });

  it('intersects(a, b) tells whether any member lies in [a, b]', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, key), { maxLength: 8 }), key, key, (ranges, a, b) => {
        const set = IntervalSet.of(...ranges.map(([x, y]): [bigint, bigint] => (x <= y ? [x, y] : [y, x])));
        const model = new Set<bigint>();
        for (const [x, y] of ranges) for (let k = x < y ? x : y; k <= (x < y ? y : x); k++) model.add(k);
        checkAgainst(set, model);
        const expected = [...model].some((m) => m >= a && m <= b);
        expect(set.intersects(a, b)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('holds huge ranges exactly', () => {
    const set = IntervalSet.of([0n, (1n << 128n) - 1n]);
    expect(set.size).toBe(1n << 128n);
    expect(set.delete(1n << 100n)).toBe(true);
    expect(set.size).toBe((1n << 128n) - 1n);
    expect(set.intervalCount).toBe(2);
    expect(set.firstAtOrAfter(1n << 100n)).toBe((1n << 100n) + 1n);
    expect(set.addRange(0n, 1n << 127n)).toBe(1n);
    expect(set.intervalCount).toBe(1);
  });
});
