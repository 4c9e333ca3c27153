/**
 * A set of bigint keys stored as sorted, disjoint, non-adjacent closed intervals [start, end].
 * Memory grows with the number of holes, never with the number of members: a free /48 is one interval.
 *
 * Lookups are binary searches; point insertion and removal touch one or two intervals (an array splice
 * when a hole opens or closes). `size` is exact.
 *
 * Two layouts behind one interface. A set made for a range (`new IntervalSet(start, size)`) stores
 * offsets from the range's start as plain numbers while they are exact: every IPv4 range, and the
 * addresses of an IPv6 range up to 2^53 from its start, where next-fit hands them out; the range's
 * very last offset, when larger, is stored as Infinity. Numbers compare and add in registers, where
 * bigints are heap objects that every comparison follows and every sum allocates, which made bigint
 * arithmetic the largest cost of folding a long log. The first offset that a number cannot hold
 * exactly turns the set into the bigint layout for good; a set made without a range starts there.
 */
/** offsets below this are numbers (so that an offset + 1 is still exact) */
const EXACT = 2n ** 53n - 1n;

export class IntervalSet {
  /** number layout: offsets from `base`; `top` (the range's last offset, when >= 2^53) is Infinity */
  private numeric: boolean;
  private readonly base: bigint;
  /** the range's size, when the set was made for one */
  private readonly span: bigint | undefined;
  /** the range's last offset when no number holds it (stored as Infinity), else -1 */
  private readonly top: bigint;
  private ns: number[] = [];
  private ne: number[] = [];
  /** bigint layout: the keys themselves */
  private bs: bigint[] = [];
  private be: bigint[] = [];
  /** size = counted + BigInt(delta): point changes touch only the number */
  private counted = 0n;
  private delta = 0;

  /** A set for the range [start, start + size - 1] (number layout), or for any keys (bigint layout). */
  constructor(start?: bigint, size?: bigint) {
    this.numeric = start !== undefined && size !== undefined && size > 0n;
    this.base = start ?? 0n;
    this.span = this.numeric ? size : undefined;
    // strictly past EXACT: the offset before the last one is then never a number, so never adjacent
    this.top = size !== undefined && size - 1n > EXACT ? size - 1n : -1n;
  }

  static of(...intervals: Array<[bigint, bigint]>): IntervalSet {
    const set = new IntervalSet();
    for (const [a, b] of intervals) set.addRange(a, b);
    return set;
  }

  get size(): bigint {
    if (this.delta !== 0) {
      this.counted += BigInt(this.delta);
      this.delta = 0;
    }
    return this.counted;
  }

  get intervalCount(): number {
    return this.numeric ? this.ns.length : this.bs.length;
  }

  isEmpty(): boolean {
    return this.intervalCount === 0;
  }

  // -- number layout helpers -------------------------------------------------------------------

  /**
   * The offset of a key as a number: -1 below the range, Infinity for `top`, NaN past the range or
   * when no number holds it exactly (the caller then decides, or leaves the number layout).
   */
  private offsetOf(x: bigint): number {
    const off = x - this.base;
    if (off < 0n) return -1;
    if (off < EXACT) return Number(off);
    return off === this.top ? Infinity : NaN;
  }

  private keyOf(off: number): bigint {
    return off === Infinity ? this.base + this.top : this.base + BigInt(off);
  }

  /** Is the key outside the range (never a member)? Number layout only. */
  private beyond(x: bigint): boolean {
    const off = x - this.base;
    return off < 0n || off >= this.span!;
  }

  /** Leaves the number layout for good (an offset no number holds exactly). */
  private toBigint(): void {
    if (!this.numeric) return;
    this.bs = this.ns.map((o) => this.keyOf(o));
    this.be = this.ne.map((o) => this.keyOf(o));
    this.ns = [];
    this.ne = [];
    this.numeric = false;
  }

  /** Index of the last interval whose start <= x, or -1. */
  private floorN(x: number): number {
    const starts = this.ns;
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

  private floorB(x: bigint): number {
    const starts = this.bs;
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

  // -- queries ---------------------------------------------------------------------------------

  has(x: bigint): boolean {
    if (this.numeric) {
      const o = this.offsetOf(x);
      if (o < 0) return false;
      // an offset no number holds lies between every finite member and the last offset: only a run
      // up to the range's end (an Infinity end) covers it
      if (Number.isNaN(o)) {
        const n = this.ne.length;
        return !this.beyond(x) && n > 0 && this.ne[n - 1] === Infinity && this.ns[n - 1] !== Infinity;
      }
      const i = this.floorN(o);
      return i >= 0 && o <= this.ne[i];
    }
    const i = this.floorB(x);
    return i >= 0 && x <= this.be[i];
  }

  first(): bigint | null {
    if (this.numeric) return this.ns.length > 0 ? this.keyOf(this.ns[0]) : null;
    return this.bs.length > 0 ? this.bs[0] : null;
  }

  /** The smallest member >= x, or null. */
  firstAtOrAfter(x: bigint): bigint | null {
    if (this.numeric) {
      let o = this.offsetOf(x);
      if (Number.isNaN(o)) {
        // past every finite member: x itself when a run reaches the range's end, else nothing
        if (this.beyond(x)) return null;
        const n = this.ne.length;
        if (n === 0 || this.ne[n - 1] !== Infinity) return null;
        return this.ns[n - 1] === Infinity ? this.base + this.top : x;
      }
      if (o < 0) o = -1;
      const i = this.floorN(o);
      if (i >= 0 && o <= this.ne[i]) return o < 0 ? this.keyOf(this.ns[0]) : x;
      const next = i + 1;
      return next < this.ns.length ? this.keyOf(this.ns[next]) : null;
    }
    const i = this.floorB(x);
    if (i >= 0 && x <= this.be[i]) return x;
    const next = i + 1;
    return next < this.bs.length ? this.bs[next] : null;
  }

  /** Does any member fall inside [a, b]? */
  intersects(a: bigint, b: bigint): boolean {
    const m = this.firstAtOrAfter(a);
    return m !== null && m <= b;
  }

  *intervals(): IterableIterator<[bigint, bigint]> {
    if (this.numeric) {
      for (let i = 0; i < this.ns.length; i++) yield [this.keyOf(this.ns[i]), this.keyOf(this.ne[i])];
    } else {
      for (let i = 0; i < this.bs.length; i++) yield [this.bs[i], this.be[i]];
    }
  }

  clone(): IntervalSet {
    const copy = new IntervalSet(this.base, this.span);
    copy.numeric = this.numeric;
    copy.ns = this.ns.slice();
    copy.ne = this.ne.slice();
    copy.bs = this.bs.slice();
    copy.be = this.be.slice();
    copy.counted = this.size;
    return copy;
  }

  // -- updates ---------------------------------------------------------------------------------

  /** Adds one key; returns false when it was already a member. Touches at most two intervals. */
  add(x: bigint): boolean {
    if (this.numeric) {
      const o = this.offsetOf(x);
      if (o >= 0) return this.addAt(o);
      this.toBigint(); // outside the range, or not exact: only the bigint layout holds it
    }
    const starts = this.bs;
    const ends = this.be;
    const i = this.floorB(x);
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
    this.delta++;
    return true;
  }

  /**
   * delete() and add() for a member of the range given as its offset, an exact number (below 2^53 - 1):
   * the fold's IPv4 path, which never makes a bigint.
   */
  deleteOffset(o: number): boolean {
    return this.numeric ? this.deleteAt(o) : this.delete(this.base + BigInt(o));
  }

  addOffset(o: number): boolean {
    return this.numeric ? this.addAt(o) : this.add(this.base + BigInt(o));
  }

  /** add() for an offset in the number layout (Infinity is the range's last offset). */
  private addAt(o: number): boolean {
    const starts = this.ns;
    const ends = this.ne;
    const i = this.floorN(o);
    if (i >= 0 && o <= ends[i]) return false;
    // the last offset (Infinity) never joins: Infinity + 1 is no start, and no end + 1 is Infinity
    const joinsLeft = i >= 0 && ends[i] + 1 === o;
    const joinsRight = i + 1 < starts.length && starts[i + 1] === o + 1;
    if (joinsLeft && joinsRight) {
      ends[i] = ends[i + 1];
      starts.splice(i + 1, 1);
      ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      ends[i] = o;
    } else if (joinsRight) {
      starts[i + 1] = o;
    } else {
      starts.splice(i + 1, 0, o);
      ends.splice(i + 1, 0, o);
    }
    this.delta++;
    return true;
  }

  /** Adds [a, b]; returns how many keys were new. */
  addRange(a: bigint, b: bigint): bigint {
    if (a > b) return 0n;
    if (this.numeric) {
      const oa = this.offsetOf(a);
      const ob = this.offsetOf(b);
      // a run ending at the range's last offset is fine; any other inexact bound is not
      if (oa < 0 || Number.isNaN(oa) || Number.isNaN(ob) || oa === Infinity) this.toBigint();
      else return this.addRangeAt(oa, ob, a, b);
    }
    const starts = this.bs;
    const ends = this.be;
    // Fast path: append after the last interval (building sets in order).
    const n = starts.length;
    if (n === 0 || a > ends[n - 1] + 1n) {
      starts.push(a);
      ends.push(b);
      this.counted += b - a + 1n;
      return b - a + 1n;
    }
    // General case: merge every interval that overlaps or touches [a, b].
    let i = this.floorB(a);
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
    this.counted += added;
    return added;
  }

  /** addRange() in the number layout: oa is finite; ob may be Infinity (the range's last offset). */
  private addRangeAt(oa: number, ob: number, a: bigint, b: bigint): bigint {
    const starts = this.ns;
    const ends = this.ne;
    const n = starts.length;
    if (n === 0 || (ends[n - 1] !== Infinity && oa > ends[n - 1] + 1)) {
      starts.push(oa);
      ends.push(ob);
      this.counted += b - a + 1n;
      return b - a + 1n;
    }
    let i = this.floorN(oa);
    if (i < 0 || (ends[i] !== Infinity && ends[i] + 1 < oa)) i++;
    let j = i;
    let newStart = oa;
    let newEnd = ob;
    let covered = 0n;
    while (j < starts.length && (ob === Infinity || starts[j] <= ob + 1)) {
      const s = starts[j];
      const e = ends[j];
      const lo = s > oa ? s : oa;
      const hi = e < ob ? e : ob;
      if (lo <= hi) covered += this.keyOf(hi) - this.keyOf(lo) + 1n;
      if (s < newStart) newStart = s;
      if (e > newEnd) newEnd = e;
      j++;
    }
    starts.splice(i, j - i, newStart);
    ends.splice(i, j - i, newEnd);
    const added = b - a + 1n - covered;
    this.counted += added;
    return added;
  }

  /** Removes one key; returns false when it was not a member. */
  delete(x: bigint): boolean {
    if (this.numeric) {
      const o = this.offsetOf(x);
      if (o < 0) return false;
      if (!Number.isNaN(o) && o !== Infinity) return this.deleteAt(o);
      if (this.beyond(x) || !this.has(x)) return false;
      // the last offset, or one no number holds: splitting around it needs the bigint layout
      this.toBigint();
    }
    const i = this.floorB(x);
    if (i < 0 || x > this.be[i]) return false;
    const s = this.bs[i];
    const e = this.be[i];
    if (s === e) {
      this.bs.splice(i, 1);
      this.be.splice(i, 1);
    } else if (x === s) {
      this.bs[i] = s + 1n;
    } else if (x === e) {
      this.be[i] = e - 1n;
    } else {
      this.bs.splice(i + 1, 0, x + 1n);
      this.be.splice(i + 1, 0, e);
      this.be[i] = x - 1n;
    }
    this.delta--;
    return true;
  }

  /** delete() for a finite offset in the number layout. */
  private deleteAt(o: number): boolean {
    const starts = this.ns;
    const ends = this.ne;
    const i = this.floorN(o);
    if (i < 0 || o > ends[i]) return false;
    const s = starts[i];
    const e = ends[i];
    if (s === e) {
      starts.splice(i, 1);
      ends.splice(i, 1);
    } else if (o === s) {
      starts[i] = s + 1;
    } else if (o === e) {
      ends[i] = e - 1;
    } else {
      starts.splice(i + 1, 0, o + 1);
      ends.splice(i + 1, 0, e);
      ends[i] = o - 1;
    }
    this.delta--;
    return true;
  }
}
