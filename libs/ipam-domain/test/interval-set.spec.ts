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
  it.each([
    ['any keys (bigint layout)', () => new IntervalSet()],
    ['a range of 64 (number layout)', () => new IntervalSet(0n, 64n)],
    ['a range of 60 that keys outside it push into the bigint layout', () => new IntervalSet(2n, 60n)],
  ])('behaves like a Set<bigint> under random add / addRange / delete: %s', (_name, make) => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let set = make();
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

  it('a set for a huge range (number layout with the last offset as Infinity) matches the bigint layout', () => {
    const base = (1n << 128n) + 77n;
    const size = 1n << 64n;
    const near = (at: bigint) => [-2n, -1n, 0n, 1n, 2n].map((d) => at + d);
    // offsets near the start, around the last exact number, and at the end of the range; and outside it
    const offsets = [
      ...[0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 40n, 41n],
      ...near(2n ** 53n - 2n),
      ...[size - 3n, size - 2n, size - 1n, size, size + 1n, -1n],
    ];
    const candidate = fc.constantFrom(...offsets.map((o) => base + o));
    const op = fc.oneof(
      candidate.map((x) => ({ op: 'add' as const, x })),
      candidate.map((x) => ({ op: 'delete' as const, x })),
      candidate.map((x) => ({ op: 'delete' as const, x })),
      fc
        .tuple(candidate, fc.nat({ max: 3 }))
        .map(([a, n]) => ({ op: 'addRange' as const, a, b: a + BigInt(n) })),
      fc.constant({ op: 'clone' as const }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 40 }), (whole, ops) => {
        let subject = new IntervalSet(base, size);
        let reference = new IntervalSet();
        // the whole range (a free set), or its start and its last address only
        const [a, b] = whole ? [base + size - 1n, base + size - 1n] : [base + 41n, base + size - 2n];
        expect(subject.addRange(base, a)).toBe(reference.addRange(base, a));
        if (!whole) expect(subject.add(b + 1n)).toBe(reference.add(b + 1n));
        for (const o of ops) {
          if (o.op === 'clone') {
            subject = subject.clone();
            reference = reference.clone();
          } else if (o.op === 'addRange') {
            // the number layout holds members of its range only (free sets never leave it)
            if (o.a < base || o.b >= base + size) continue;
            expect(subject.addRange(o.a, o.b)).toBe(reference.addRange(o.a, o.b));
          } else if (o.op === 'add') {
            if (o.x < base || o.x >= base + size) continue;
            expect(subject.add(o.x)).toBe(reference.add(o.x));
          } else {
            expect(subject.delete(o.x)).toBe(reference.delete(o.x));
          }
          expect(subject.size).toBe(reference.size);
          expect([...subject.intervals()]).toEqual([...reference.intervals()]);
          for (const x of offsets.map((d) => base + d)) {
            expect([x, subject.has(x)]).toEqual([x, reference.has(x)]);
            expect([x, subject.firstAtOrAfter(x)]).toEqual([x, reference.firstAtOrAfter(x)]);
          }
          expect(subject.first()).toBe(reference.first());
        }
      }),
      { numRuns: 300 },
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
