/**
 * A set of bigint keys stored as sorted, disjoint, non-adjacent closed intervals [start, end].
 * Memory grows with the number of holes, never with the number of members: a free /48 is one interval.
 *
 * Lookups are binary searches; point insertion and removal touch one or two intervals (an array splice
 * when a hole opens or closes). `size` is kept exact as a bigint.
 */
export class IntervalSet {
  private starts: bigint[] = [];
  private ends: bigint[] = [];
  private count = 0n;

  static of(...intervals: Array<[bigint, bigint]>): IntervalSet {
    const set = new IntervalSet();
    for (const [a, b] of intervals) set.addRange(a, b);
    return set;
  }

  get size(): bigint {
    return this.count;
  }

  get intervalCount(): number {
    return this.starts.length;
  }

  isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /** Index of the last interval whose start <= x, or -1. */
  private floorIndex(x: bigint): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= x) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  has(x: bigint): boolean {
    const i = this.floorIndex(x);
    return i >= 0 && x <= this.ends[i];
  }

  first(): bigint | null {
    return this.starts.length > 0 ? this.starts[0] : null;
  }

  /** The smallest member >= x, or null. */
  firstAtOrAfter(x: bigint): bigint | null {
    const i = this.floorIndex(x);
    if (i >= 0 && x <= this.ends[i]) return x;
    const next = i + 1;
    return next < this.starts.length ? this.starts[next] : null;
  }

  /** Adds one key; returns false when it was already a member. Touches at most two intervals. */
  add(x: bigint): boolean {
    const starts = this.starts;
    const ends = this.ends;
    const i = this.floorIndex(x);
    if (i >= 0 && x <= ends[i]) return false;
    const joinsLeft = i >= 0 && ends[i] + 1n === x;
    const joinsRight = i + 1 < starts.length && starts[i + 1] === x + 1n;
    if (joinsLeft && joinsRight) {
      ends[i] = ends[i + 1];
      starts.splice(i + 1, 1);
      ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      ends[i] = x;
    } else if (joinsRight) {
      starts[i + 1] = x;
    } else {
      starts.splice(i + 1, 0, x);
      ends.splice(i + 1, 0, x);
    }
    this.count += 1n;
    return true;
  }

  /** Adds [a, b]; returns how many keys were new. */
  addRange(a: bigint, b: bigint): bigint {
    if (a > b) return 0n;
    const starts = this.starts;
    const ends = this.ends;
    // Fast path: append after the last interval (building sets in order).
    const n = starts.length;
    if (n === 0 || a > ends[n - 1] + 1n) {
      starts.push(a);
      ends.push(b);
      this.count += b - a + 1n;
      return b - a + 1n;
    }
    // General case: merge every interval that overlaps or touches [a, b].
    let i = this.floorIndex(a);
    if (i < 0 || ends[i] + 1n < a) i++;
    let j = i;
    let newStart = a;
    let newEnd = b;
    let covered = 0n;
    while (j < starts.length && starts[j] <= b + 1n) {
      const s = starts[j];
      const e = ends[j];
      const lo = s > a ? s : a;
      const hi = e < b ? e : b;
      if (lo <= hi) covered += hi - lo + 1n;
      if (s < newStart) newStart = s;
      if (e > newEnd) newEnd = e;
      j++;
    }
    starts.splice(i, j - i, newStart);
    ends.splice(i, j - i, newEnd);
    const added = b - a + 1n - covered;
    this.count += added;
    return added;
  }

  /** Removes one key; returns false when it was not a member. */
  delete(x: bigint): boolean {
    const i = this.floorIndex(x);
    if (i < 0 || x > this.ends[i]) return false;
    const s = this.starts[i];
    const e = this.ends[i];
    if (s === e) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (x === s) {
      this.starts[i] = s + 1n;
    } else if (x === e) {
      this.ends[i] = e - 1n;
    } else {
      this.starts.splice(i + 1, 0, x + 1n);
      this.ends.splice(i + 1, 0, e);
      this.ends[i] = x - 1n;
    }
    this.count -= 1n;
    return true;
  }

  /** Does any member fall inside [a, b]? */
  intersects(a: bigint, b: bigint): boolean {
    const m = this.firstAtOrAfter(a);
    return m !== null && m <= b;
  }

  *intervals(): IterableIterator<[bigint, bigint]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i], this.ends[i]];
  }

  clone(): IntervalSet {
    const copy = new IntervalSet();
    copy.starts = this.starts.slice();
    copy.ends = this.ends.slice();
    copy.count = this.count;
    return copy;
  }
}
