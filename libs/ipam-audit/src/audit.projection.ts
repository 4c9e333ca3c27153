/**
 * The audit read model: a fold of the outcome events with their stream sequence and time.
 *
 * - every holder of every address (pool, load balancer, from/to sequence and time);
 * - every address a load balancer held and every rejection it got;
 * - "as of": the holder of an address at a time or sequence.
 *
 * It is fed the answers the in-order fold accepted (a forged outcome never reaches it). Memory grows with
 * the number of allocations and rejections, kept compact: addresses, pools, load balancers, actors and
 * codes are interned once; each holding is a row of typed columns (ids, sequences, times), each
 * rejection likewise plus its reason; an address's or load balancer's timeline is a list of row numbers.
 * About 100 bytes per holding instead of the ~700 of an object graph with ISO time strings. A query is a
 * lookup plus a scan of that one address's (or load balancer's) rows, turned into objects then.
 */
import type { IpamEvent } from '../../ipam-domain/src/index.js';

export interface Point {
  seq: number;
  /** RFC 3339 */
  time: string;
  /** who asked for the input this answers (its metadata.actor), when it said */
  actor?: string;
}

export interface Holding {
  ip: string;
  ipPool: string;
  loadBalancer: string;
  fromHistory: boolean;
  /** the outcome that allocated it, and the input it answered */
  from: Point & { causationSeq: number };
  /** the release, or null while held */
  to: (Point & { causationSeq: number; forced: boolean }) | null;
}

export interface Rejection {
  loadBalancer: string;
  code: string;
  reason: string;
  at: Point & { causationSeq: number };
}

export type LoadBalancerEntry = ({ kind: 'held' } & Holding) | ({ kind: 'rejected' } & Rejection);

export interface AsOf {
  seq?: number;
  /** ms since the epoch */
  time?: number;
}

function covers(h: Holding, at: AsOf): boolean {
  if (at.seq !== undefined) return h.from.seq <= at.seq && (h.to === null || h.to.seq > at.seq);
  if (at.time !== undefined) {
    const t = at.time;
    return Date.parse(h.from.time) <= t && (h.to === null || Date.parse(h.to.time) > t);
  }
  return h.to === null;
}

/** A growable column of numbers. */
class Column<A extends Float64Array | Int32Array> {
  data: A;
  constructor(private readonly make: (n: number) => A) {
    this.data = make(1024);
  }
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const bigger = this.make(Math.max(n, this.data.length * 2));
    bigger.set(this.data);
    this.data = bigger;
  }
}
const f64 = () => new Column((n) => new Float64Array(n));
const i32 = () => new Column((n) => new Int32Array(n));

/** Strings by id, ids by string. */
class Interned {
  readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  id(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.ids.set(v, id);
    }
    return id;
  }
}

const FROM_HISTORY = 1;
const FORCED = 2;
const CLOSED = 4;

/** The whole model as plain data and typed arrays: what a worker thread that built it hands over. */
export interface ProjectionColumns {
  strings: { ips: string[]; pools: string[]; lbs: string[]; words: string[] };
  holdings: number;
  ints: Int32Array[];
  floats: Float64Array[];
  rejections: number;
  rInts: Int32Array[];
  rAt: Float64Array;
  rReason: string[];
  byAddress: number[][];
  byLoadBalancer: number[][];
  open: number[];
  openMore: Array<[number, number[]]>;
}

export class AuditProjection {
  private readonly ips = new Interned();
  private readonly pools = new Interned();
  private readonly lbs = new Interned();
  /** actors, codes */
  private readonly words = new Interned();
  /** holdings: one row each */
  private holdings = 0;
  private readonly hIp = i32();
  private readonly hPool = i32();
  private readonly hLb = i32();
  private readonly hFlags = i32();
  private readonly hFromActor = i32();
  private readonly hToActor = i32();
  private readonly hFrom = f64(); // seq, time, causationSeq per row (3 slots)
  private readonly hTo = f64();
  /** rejections: one row each */
  private rejections = 0;
  private readonly rLb = i32();
  private readonly rCode = i32();
  private readonly rActor = i32();
  private readonly rAt = f64();
  private readonly rReason: string[] = [];
  /** per address id: holding rows, oldest first */
  private readonly byAddress: number[][] = [];
  /** per load balancer id: holding rows (>= 0) and rejection rows (-1 - row), oldest first */
  private readonly byLoadBalancer: number[][] = [];
  /** per load balancer id: the row of a holding it has open, or -1 */
  private readonly open: number[] = [];
  /** per load balancer id holding more than one address (dual-stack): its other open rows */
  private readonly openMore = new Map<number, number[]>();

  /** The model as columns (see ProjectionColumns); the typed arrays are copies, trimmed to size. */
  toColumns(): ProjectionColumns {
    const h = this.holdings;
    const r = this.rejections;
    return {
      strings: {
        ips: this.ips.values,
        pools: this.pools.values,
        lbs: this.lbs.values,
        words: this.words.values,
      },
      holdings: h,
      ints: [this.hIp, this.hPool, this.hLb, this.hFlags, this.hFromActor, this.hToActor].map((c) =>
        c.data.slice(0, h),
      ),
      floats: [this.hFrom.data.slice(0, 3 * h), this.hTo.data.slice(0, 3 * h)],
      rejections: r,
      rInts: [this.rLb, this.rCode, this.rActor].map((c) => c.data.slice(0, r)),
      rAt: this.rAt.data.slice(0, 3 * r),
      rReason: this.rReason,
      byAddress: this.byAddress,
      byLoadBalancer: this.byLoadBalancer,
      open: this.open,
      openMore: [...this.openMore],
    };
  }

  /** A model from toColumns() (of this build). */
  static fromColumns(c: ProjectionColumns): AuditProjection {
    const p = new AuditProjection();
    const intern = (to: Interned, values: string[]) => {
      for (const v of values) to.id(v);
    };
    intern(p.ips, c.strings.ips);
    intern(p.pools, c.strings.pools);
    intern(p.lbs, c.strings.lbs);
    intern(p.words, c.strings.words);
    p.holdings = c.holdings;
    [p.hIp, p.hPool, p.hLb, p.hFlags, p.hFromActor, p.hToActor].forEach((col, k) => {
      col.ensure(c.holdings + 1);
      col.data.set(c.ints[k]);
    });
    [p.hFrom, p.hTo].forEach((col, k) => {
      col.ensure(3 * c.holdings + 3);
      col.data.set(c.floats[k]);
    });
    p.rejections = c.rejections;
    [p.rLb, p.rCode, p.rActor].forEach((col, k) => {
      col.ensure(c.rejections + 1);
      col.data.set(c.rInts[k]);
    });
    p.rAt.ensure(3 * c.rejections + 3);
    p.rAt.data.set(c.rAt);
    for (const x of c.rReason) p.rReason.push(x);
    for (let i = 0; i < c.byAddress.length; i++)
      if (c.byAddress[i] !== undefined) p.byAddress[i] = c.byAddress[i];
    for (let i = 0; i < c.byLoadBalancer.length; i++)
      if (c.byLoadBalancer[i] !== undefined) p.byLoadBalancer[i] = c.byLoadBalancer[i];
    for (let i = 0; i < c.open.length; i++) if (c.open[i] !== undefined) p.open[i] = c.open[i];
    for (const [lb, rows] of c.openMore) p.openMore.set(lb, rows);
    return p;
  }

  /**
   * Applies the accepted answer of one input, stored at `seq` at `time` (ms). Only answers the in-order
   * fold accepted may come here (InputLedger): the projection takes them as they are.
   */
  apply(seq: number, time: number, event: IpamEvent): void {
    if (event.type !== 'IPAllocated' && event.type !== 'IPReleased' && event.type !== 'LBRejected') return;
    const { causationSeq, actor } = event.data;
    const actorId = actor === undefined ? -1 : this.words.id(actor);
    if (event.type === 'IPAllocated') {
      const d = event.data;
      const lb = this.lbs.id(d.loadBalancer);
      // one open holding per load balancer and address: each address of a dual-stack allocation
      const addresses = d.addresses ?? [d];
      const ids = addresses.map((x) => [this.ips.id(x.ip), this.pools.id(x.ipPool)]);
      if (ids.every(([ip, pool]) => this.openRowOf(lb, ip, pool) >= 0)) return; // repeated request
      addresses.forEach((x, k) => {
        const [ip, pool] = ids[k];
        if (this.openRowOf(lb, ip, pool) >= 0) return;
        const h = this.holdings++;
        for (const c of [this.hIp, this.hPool, this.hLb, this.hFlags, this.hFromActor, this.hToActor])
          c.ensure(h + 1);
        this.hFrom.ensure(3 * h + 3);
        this.hTo.ensure(3 * h + 3);
        this.hIp.data[h] = ip;
        this.hPool.data[h] = pool;
        this.hLb.data[h] = lb;
        this.hFlags.data[h] = x.fromHistory === true ? FROM_HISTORY : 0;
        this.hFromActor.data[h] = actorId;
        this.hToActor.data[h] = -1;
        this.hFrom.data[3 * h] = seq;
        this.hFrom.data[3 * h + 1] = time;
        this.hFrom.data[3 * h + 2] = causationSeq;
        (this.byAddress[ip] ??= []).push(h);
        (this.byLoadBalancer[lb] ??= []).push(h);
        this.openRows(lb, h);
      });
    } else if (event.type === 'IPReleased') {
      const d = event.data;
      const lb = this.lbs.ids.get(d.loadBalancer);
      if (lb === undefined) return;
      for (const x of d.addresses ?? [d]) {
        const ip = this.ips.ids.get(x.ip);
        const pool = this.pools.ids.get(x.ipPool);
        const h = ip === undefined || pool === undefined ? -1 : this.openRowOf(lb, ip, pool);
        if (h < 0) continue;
        this.hFlags.data[h] |= CLOSED | (d.forced === true ? FORCED : 0);
        this.hToActor.data[h] = actorId;
        this.hTo.data[3 * h] = seq;
        this.hTo.data[3 * h + 1] = time;
        this.hTo.data[3 * h + 2] = causationSeq;
        this.closeRow(lb, h);
      }
    } else {
      const d = event.data;
      const lb = this.lbs.id(d.loadBalancer);
      const r = this.rejections++;
      for (const c of [this.rLb, this.rCode, this.rActor]) c.ensure(r + 1);
      this.rAt.ensure(3 * r + 3);
      this.rLb.data[r] = lb;
      this.rCode.data[r] = this.words.id(d.code);
      this.rActor.data[r] = actorId;
      this.rAt.data[3 * r] = seq;
      this.rAt.data[3 * r + 1] = time;
      this.rAt.data[3 * r + 2] = causationSeq;
      this.rReason.push(d.reason);
      (this.byLoadBalancer[lb] ??= []).push(-1 - r);
    }
  }

  /** The row of the holding of `ip` in `pool` the load balancer has open, or -1. */
  private openRowOf(lb: number, ip: number, pool: number): number {
    const is = (h: number | undefined) =>
      h !== undefined && h >= 0 && this.hIp.data[h] === ip && this.hPool.data[h] === pool;
    const first = this.open[lb];
    if (is(first)) return first;
    return this.openMore.get(lb)?.find(is) ?? -1;
  }

  /** Row `h` is a holding the load balancer has open. */
  private openRows(lb: number, h: number): void {
    const first = this.open[lb];
    if (first === undefined || first < 0) this.open[lb] = h;
    else {
      const more = this.openMore.get(lb);
      if (more === undefined) this.openMore.set(lb, [h]);
      else more.push(h);
    }
  }

  /** Row `h` is closed: no longer one the load balancer has open. */
  private closeRow(lb: number, h: number): void {
    const more = this.openMore.get(lb);
    if (this.open[lb] === h) this.open[lb] = more?.shift() ?? -1;
    else if (more !== undefined) more.splice(more.indexOf(h), 1);
    if (more !== undefined && more.length === 0) this.openMore.delete(lb);
  }

  private point(col: Float64Array, row: number, actor: number): Point & { causationSeq: number } {
    const p: Point & { causationSeq: number } = {
      seq: col[3 * row],
      time: new Date(col[3 * row + 1]).toISOString(),
      causationSeq: col[3 * row + 2],
    };
    if (actor >= 0) p.actor = this.words.values[actor];
    return p;
  }

  private holding(h: number): Holding {
    const flags = this.hFlags.data[h];
    const from = this.point(this.hFrom.data, h, this.hFromActor.data[h]);
    const to =
      (flags & CLOSED) === 0
        ? null
        : { ...this.point(this.hTo.data, h, this.hToActor.data[h]), forced: (flags & FORCED) !== 0 };
    return {
      ip: this.ips.values[this.hIp.data[h]],
      ipPool: this.pools.values[this.hPool.data[h]],
      loadBalancer: this.lbs.values[this.hLb.data[h]],
      fromHistory: (flags & FROM_HISTORY) !== 0,
      from,
      to,
    };
  }

  private rejection(r: number): Rejection {
    return {
      loadBalancer: this.lbs.values[this.rLb.data[r]],
      code: this.words.values[this.rCode.data[r]],
      reason: this.rReason[r],
      at: this.point(this.rAt.data, r, this.rActor.data[r]),
    };
  }

  /** Every holder of the address, oldest first; with `at`, only the one holding it then. */
  address(ip: string, at?: AsOf): Holding[] {
    const id = this.ips.ids.get(ip);
    const all = (id === undefined ? undefined : this.byAddress[id]) ?? [];
    const holdings = all.map((h) => this.holding(h));
    if (!at || (at.seq === undefined && at.time === undefined)) return holdings;
    return holdings.filter((h) => covers(h, at));
  }

  /** Every address the load balancer held and every rejection it got, oldest first; with `at`, up to then. */
  loadBalancer(key: string, at?: AsOf): LoadBalancerEntry[] {
    const id = this.lbs.ids.get(key);
    const all = (id === undefined ? undefined : this.byLoadBalancer[id]) ?? [];
    const out: LoadBalancerEntry[] = all.map((row) =>
      row >= 0 ? { kind: 'held', ...this.holding(row) } : { kind: 'rejected', ...this.rejection(-1 - row) },
    );
    if (!at || (at.seq === undefined && at.time === undefined)) return out;
    const upTo = (p: Point) =>
      at.seq !== undefined ? p.seq <= at.seq : Date.parse(p.time) <= (at.time as number);
    return out.filter((e) => upTo(e.kind === 'held' ? e.from : e.at));
  }
}
