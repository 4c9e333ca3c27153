/**
 * The audit read model: a fold of the outcome events with their stream sequence and time.
 *
 * - every holder of every address (pool, load balancer, from/to sequence and time);
 * - every address a load balancer held and every rejection it got;
 * - "as of": the holder of an address at a time or sequence.
 *
 * It is fed the answers the in-order fold accepted (a forged outcome never reaches it). Memory grows with
 * the number of allocations and rejections; a query is a map lookup plus a scan of that one address's
 * (or load balancer's) entries.
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

export class AuditProjection {
  private readonly byAddress = new Map<string, Holding[]>();
  private readonly byLoadBalancer = new Map<string, Array<Holding | Rejection>>();
  private readonly open = new Map<string, Holding>();

  /**
   * Applies the accepted answer of one input, stored at `seq` at `time` (ms). Only answers the in-order
   * fold accepted may come here (InputLedger): the projection takes them as they are.
   */
  apply(seq: number, time: number, event: IpamEvent): void {
    if (event.type !== 'IPAllocated' && event.type !== 'IPReleased' && event.type !== 'LBRejected') return;
    const { causationSeq, actor } = event.data;
    const at = new Date(time).toISOString();
    const point = actor === undefined ? { seq, time: at, causationSeq } : { seq, time: at, causationSeq, actor };
    if (event.type === 'IPAllocated') {
      const d = event.data;
      const held = this.open.get(d.loadBalancer);
      if (held && held.ip === d.ip && held.ipPool === d.ipPool) return; // repeated request
      const h: Holding = {
        ip: d.ip,
        ipPool: d.ipPool,
        loadBalancer: d.loadBalancer,
        fromHistory: d.fromHistory === true,
        from: point,
        to: null,
      };
      this.push(this.byAddress, d.ip, h);
      this.push(this.byLoadBalancer, d.loadBalancer, h);
      this.open.set(d.loadBalancer, h);
    } else if (event.type === 'IPReleased') {
      const d = event.data;
      const h = this.open.get(d.loadBalancer);
      if (!h || h.ip !== d.ip) return;
      h.to = { ...point, forced: d.forced === true };
      this.open.delete(d.loadBalancer);
    } else {
      const d = event.data;
      this.push(this.byLoadBalancer, d.loadBalancer, {
        loadBalancer: d.loadBalancer,
        code: d.code,
        reason: d.reason,
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
