/**
 * The audit read model: a fold of the outcome events with their stream sequence and time.
 *
 * - every holder of every address (pool, load balancer, from/to sequence and time);
 * - every address a load balancer held and every rejection it got;
 * - "as of": the holder of an address at a time or sequence.
 *
 * Memory grows with the number of allocations and rejections; a query is a map lookup plus a scan of
 * that one address's (or load balancer's) entries.
 */

export interface Point {
  seq: number;
  /** RFC 3339 */
  time: string;
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

interface OutcomeBody {
  causationSeq?: unknown;
  loadBalancer?: unknown;
  ipPool?: unknown;
  ip?: unknown;
  fromHistory?: unknown;
  code?: unknown;
  reason?: unknown;
  forced?: unknown;
}

const decoder = new TextDecoder();

/** Outcomes that have no place in the timelines but still answer their input (the first outcome counts). */
const OTHER_OUTCOMES = new Set([
  'ipam.ip.rejected',
  'ipam.pool.accepted',
  'ipam.pool.rejected',
  'ipam.pool.historyrestored',
]);

function covers(h: Holding, at: AsOf): boolean {
  if (at.seq !== undefined) return h.from.seq <= at.seq && (h.to === null || h.to.seq > at.seq);
  if (at.time !== undefined) {
    const t = at.time;
    return Date.parse(h.from.time) <= t && (h.to === null || Date.parse(h.to.time) > t);
  }
  return h.to === null;
}

export class AuditProjection {
  private readonly byAddress = new Map<string, Holding[]>();
  private readonly byLoadBalancer = new Map<string, Array<Holding | Rejection>>();
  private readonly open = new Map<string, Holding>();
  /** inputs already answered: the first outcome counts */
  private readonly answered = new Set<number>();
  /** highest stream sequence applied */
  position = 0;

  /** Applies one stored message; inputs and unknown subjects are ignored. */
  apply(seq: number, subject: string, time: number, data: Uint8Array): void {
    if (seq <= this.position) return;
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(data));
    } catch {
      this.position = seq;
      return;
    }
    this.applyParsed(seq, subject, time, body);
  }

  /** `apply` for a body already parsed from JSON (the service parses each outcome once). */
  applyParsed(seq: number, subject: string, time: number, parsed: unknown): void {
    if (seq <= this.position) return;
    this.position = seq;
    const folded =
      subject === 'ipam.ip.allocated' || subject === 'ipam.ip.released' || subject === 'ipam.lb.rejected';
    if (!folded && !OTHER_OUTCOMES.has(subject)) return;
    const body = parsed as OutcomeBody;
    const causationSeq = typeof body?.causationSeq === 'number' ? body.causationSeq : -1;
    // an outcome answers an earlier input, once: a later one, or one naming a later input, is ignored
    if (causationSeq < 0 || causationSeq >= seq || this.answered.has(causationSeq)) return;
    this.answered.add(causationSeq);
    if (!folded) return;
    const point = { seq, time: new Date(time).toISOString(), causationSeq };
    const lb = typeof body.loadBalancer === 'string' ? body.loadBalancer : '';
    if (subject === 'ipam.ip.allocated') {
      if (typeof body.ip !== 'string' || typeof body.ipPool !== 'string') return;
      const held = this.open.get(lb);
      if (held && held.ip === body.ip && held.ipPool === body.ipPool) return; // repeated request
      const h: Holding = {
        ip: body.ip,
        ipPool: body.ipPool,
        loadBalancer: lb,
        fromHistory: body.fromHistory === true,
        from: point,
        to: null,
      };
      this.push(this.byAddress, body.ip, h);
      this.push(this.byLoadBalancer, lb, h);
      this.open.set(lb, h);
    } else if (subject === 'ipam.ip.released') {
      const h = this.open.get(lb);
      if (!h || h.ip !== body.ip) return;
      h.to = { ...point, forced: body.forced === true };
      this.open.delete(lb);
    } else {
      this.push(this.byLoadBalancer, lb, {
        loadBalancer: lb,
        code: typeof body.code === 'string' ? body.code : '',
        reason: typeof body.reason === 'string' ? body.reason : '',
        at: point,
      });
    }
  }

  private push<V>(map: Map<string, V[]>, key: string, value: V): void {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }

  /** Every holder of the address, oldest first; with `at`, only the one holding it then. */
  address(ip: string, at?: AsOf): Holding[] {
    const all = this.byAddress.get(ip) ?? [];
    if (!at || (at.seq === undefined && at.time === undefined)) return all.map((h) => ({ ...h }));
    return all.filter((h) => covers(h, at)).map((h) => ({ ...h }));
  }

  /** Every address the load balancer held and every rejection it got, oldest first; with `at`, up to then. */
  loadBalancer(key: string, at?: AsOf): LoadBalancerEntry[] {
    const all = this.byLoadBalancer.get(key) ?? [];
    const out: LoadBalancerEntry[] = all.map((e) =>
      'ip' in e ? { kind: 'held', ...e } : { kind: 'rejected', ...e },
    );
    if (!at || (at.seq === undefined && at.time === undefined)) return out;
    const upTo = (p: Point) =>
      at.seq !== undefined ? p.seq <= at.seq : Date.parse(p.time) <= (at.time as number);
    return out.filter((e) => upTo(e.kind === 'held' ? e.from : e.at));
  }
}
