/**
 * The decider's state as plain JSON-able data, and back: exportState / importState. Pure (no I/O, no
 * clock); the service stores what exportState returns (libs/jetstream snapshot-store.ts) and starts from
 * importState instead of folding the whole stream. The contract: deciding and folding any further
 * inputs on `importState(exportState(s))` gives the events they give on `s` (snapshot.spec.ts).
 *
 * What is kept, per the layout of pool.state.ts:
 * - pools in creation order (selection walks them in that order): name, canonical spec (the definition
 *   is parsed again from it), version, counts, the last address allocated, the free intervals per range
 *   and every used slot of each range's table (holder, history entry and its sequence);
 * - load-balancer records in map order, each with its reference count, its holding (pool, range,
 *   offset), the addresses it holds beyond the first (dual-stack), its sharing group and its *live*
 *   history references in order (stale ones are skipped by every reader and dropped by the fold; their
 *   order breaks ties between entries of one sequence, so it is kept);
 * - sharing groups in map order with their holders oldest first.
 *
 * Offsets are numbers while exact (below 2^53), else decimal text; addresses are decimal text. Records
 * and pools are named by their index in the lists. Internal caches (the last page found, the spare
 * records, the number form of lastAllocated) are not state and are not kept.
 */
import { definitionFromSpec, type PoolSpec } from './pool-spec.js';
import { AddressTable } from './address-table.js';
import { IntervalSet } from './interval-set.js';
import {
  type AddressRef,
  type HistoryRef,
  type IpamState,
  initialState,
  lastAllocatedOf,
  type LoadBalancerRecord,
  offsetValue,
  type PoolState,
  type ShareGroup,
} from './pool.state.js';

/** The layout version of StateSnapshot; a reader refuses any other. */
export const SNAPSHOT_FORMAT = 1;

/** An offset from a range's start: a number while exact, else decimal text. */
export type SnapshotOffset = number | string;
/** [pool index, range index, offset] */
export type SnapshotRef = [number, number, SnapshotOffset];

export interface PoolSnapshot {
  name: string;
  spec: PoolSpec;
  version: number;
  allocatedCount: number;
  historyCount: number;
  /** decimal text, or null */
  lastAllocated: string | null;
  /** per range: the free intervals as offsets, flat (start0, end0, start1, end1, ...) */
  free: SnapshotOffset[][];
  /** per range: every used slot of its table, in address order */
  tables: TableSnapshot[];
}

/** Used slots of one range's table as parallel arrays (record indexes, -1 for none). */
export interface TableSnapshot {
  offset: SnapshotOffset[];
  holder: number[];
  history: number[];
  seq: number[];
}

export interface RecordSnapshot {
  key: string;
  refs: number;
  /** the (first) address it holds, or null */
  hold: SnapshotRef | null;
  /** the addresses it holds beyond the first, or null */
  more: SnapshotRef[] | null;
  /** index of its sharing group, or -1 */
  share: number;
  /** its live history references, in order */
  history: SnapshotRef[];
}

export interface ShareSnapshot {
  id: string;
  sharingKey: string;
  /** record indexes, oldest first */
  holders: number[];
}

export interface StateSnapshot {
  format: number;
  held: number;
  pools: PoolSnapshot[];
  records: RecordSnapshot[];
  shares: ShareSnapshot[];
}

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

const EXACT = 2n ** 53n - 1n;

function offsetOut(o: bigint | number): SnapshotOffset {
  if (typeof o === 'number') return o;
  return o < EXACT ? Number(o) : o.toString();
}

function offsetIn(o: SnapshotOffset): bigint {
  return typeof o === 'number' ? BigInt(o) : BigInt(o);
}

/** Plain data of the whole state (see the module comment). Synchronous and read-only. */
export function exportState(state: IpamState): StateSnapshot {
  const poolIndex = new Map<PoolState, number>();
  const pools = [...state.pools.values()];
  pools.forEach((p, i) => poolIndex.set(p, i));
  const recordIndex = new Map<LoadBalancerRecord, number>();
  const recs = [...state.loadBalancers.values()];
  recs.forEach((r, i) => recordIndex.set(r, i));
  const shareIndex = new Map<ShareGroup, number>();
  const groups = [...state.shares.values()];
  groups.forEach((g, i) => shareIndex.set(g, i));

  const indexOf = (rec: LoadBalancerRecord | null): number => {
    if (rec === null) return -1;
    const i = recordIndex.get(rec);
    if (i === undefined) throw new SnapshotError(`a table names ${rec.key}, which the state does not list`);
    return i;
  };
  const ref = (pool: PoolState, range: number, offset: bigint | number): SnapshotRef => {
    const i = poolIndex.get(pool);
    if (i === undefined) throw new SnapshotError(`a reference names pool ${pool.def.name}, which is gone`);
    return [i, range, offsetOut(offset)];
  };

  const poolsOut: PoolSnapshot[] = pools.map((p) => {
    const last = lastAllocatedOf(p);
    return {
      name: p.def.name,
      spec: p.def.spec,
      version: p.version,
      allocatedCount: p.allocatedCount,
      historyCount: p.historyCount,
      lastAllocated: last === null ? null : last.toString(),
      free: p.free.map((set, r) => {
        const start = p.def.ranges[r].start;
        const flat: SnapshotOffset[] = [];
        for (const [a, b] of set.intervals()) flat.push(offsetOut(a - start), offsetOut(b - start));
        return flat;
      }),
      tables: p.tables.map((table) => {
        const t: TableSnapshot = { offset: [], holder: [], history: [], seq: [] };
        for (const e of table.entries()) {
          t.offset.push(offsetOut(e.offset));
          t.holder.push(indexOf(e.holder));
          t.history.push(indexOf(e.history));
          t.seq.push(e.seq);
        }
        return t;
      }),
    };
  });

  const records: RecordSnapshot[] = recs.map((rec) => {
    const history: SnapshotRef[] = [];
    for (const h of rec.history ?? [])
      if (liveRef(state, rec, h)) history.push(ref(h.pool, h.range, h.offset));
    return {
      key: rec.key,
      refs: rec.refs,
      hold: rec.pool === null ? null : ref(rec.pool, rec.range, rec.offset),
      more: rec.more === null ? null : rec.more.map((m) => ref(m.pool, m.range, m.offset)),
      share: rec.share === null ? -1 : (shareIndex.get(rec.share) ?? -1),
      history,
    };
  });

  const shares: ShareSnapshot[] = groups.map((g) => ({
    id: g.id,
    sharingKey: g.sharingKey,
    holders: g.holders.map((h) => indexOf(h)),
  }));

  return { format: SNAPSHOT_FORMAT, held: state.held, pools: poolsOut, records, shares };
}

/** A history reference still names its address's entry (pool.evolve.ts `live`). */
function liveRef(state: IpamState, rec: LoadBalancerRecord, ref: HistoryRef): boolean {
  const pool = ref.pool;
  return (
    pool.tables[ref.range] === ref.table &&
    ref.table.history(ref.offset) === rec &&
    state.pools.get(pool.def.name) === pool
  );
}

/** The state a snapshot describes. Throws SnapshotError for another format or data that does not fit. */
export function importState(snapshot: StateSnapshot): IpamState {
  if (snapshot?.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(
      `snapshot format ${String(snapshot?.format)} is not the format this build reads (${SNAPSHOT_FORMAT})`,
    );
  }
  const state = initialState();
  state.held = snapshot.held;

  const pools: PoolState[] = snapshot.pools.map((p) => {
    const def = definitionFromSpec(p.name, p.spec);
    if (def === null) throw new SnapshotError(`pool ${p.name}: its spec does not parse`);
    if (p.free.length !== def.ranges.length || p.tables.length !== def.ranges.length)
      throw new SnapshotError(
        `pool ${p.name}: ${def.ranges.length} ranges, not as many free sets and tables`,
      );
    const pool: PoolState = {
      def,
      version: p.version,
      free: def.ranges.map((r, i) => {
        const set = new IntervalSet(r.start, r.end - r.start + 1n);
        const flat = p.free[i];
        for (let k = 0; k + 1 < flat.length; k += 2)
          set.addRange(r.start + offsetIn(flat[k]), r.start + offsetIn(flat[k + 1]));
        return set;
      }),
      tables: def.ranges.map((r) => new AddressTable<LoadBalancerRecord>(r.end - r.start + 1n)),
      allocatedCount: p.allocatedCount,
      historyCount: p.historyCount,
      lastAllocated: p.lastAllocated === null ? null : BigInt(p.lastAllocated),
      lastOffset: -1,
      lastBase: 0n,
    };
    state.pools.set(p.name, pool);
    return pool;
  });

  const recs: LoadBalancerRecord[] = snapshot.records.map((r) => {
    const rec: LoadBalancerRecord = {
      key: r.key,
      pool: null,
      range: -1,
      offset: 0,
      history: null,
      refs: r.refs,
      more: null,
      share: null,
    };
    state.loadBalancers.set(r.key, rec);
    return rec;
  });
  const recAt = (i: number): LoadBalancerRecord => {
    const rec = recs[i];
    if (rec === undefined) throw new SnapshotError(`no record ${i}`);
    return rec;
  };
  const poolAt = (i: number): PoolState => {
    const pool = pools[i];
    if (pool === undefined) throw new SnapshotError(`no pool ${i}`);
    return pool;
  };
  const addressRef = ([p, range, o]: SnapshotRef): AddressRef => ({
    pool: poolAt(p),
    range,
    offset: offsetValue(offsetIn(o)),
  });

  snapshot.pools.forEach((p, pi) => {
    const pool = pools[pi];
    p.tables.forEach((t, r) => {
      const table = pool.tables[r];
      for (let k = 0; k < t.offset.length; k++) {
        const offset = offsetValue(offsetIn(t.offset[k]));
        // history first: hold() erases it, and a slot names at most one of each
        if (t.history[k] >= 0) table.setHistory(offset, recAt(t.history[k]), t.seq[k]);
        else if (t.seq[k] !== 0) table.setHistory(offset, null as unknown as LoadBalancerRecord, t.seq[k]);
        if (t.holder[k] >= 0) {
          const keep = table.history(offset);
          table.hold(offset, recAt(t.holder[k]));
          if (keep !== null) table.setHistory(offset, keep, t.seq[k]);
        }
      }
    });
  });

  const groups: ShareGroup[] = snapshot.shares.map((g) => {
    const group: ShareGroup = { id: g.id, sharingKey: g.sharingKey, holders: g.holders.map(recAt) };
    state.shares.set(g.id, group);
    return group;
  });

  snapshot.records.forEach((r, i) => {
    const rec = recs[i];
    if (r.hold !== null) {
      const at = addressRef(r.hold);
      rec.pool = at.pool;
      rec.range = at.range;
      rec.offset = at.offset;
    }
    if (r.more !== null) rec.more = r.more.map(addressRef);
    if (r.share >= 0) {
      const group = groups[r.share];
      if (group === undefined) throw new SnapshotError(`record ${r.key}: no sharing group ${r.share}`);
      rec.share = group;
    }
    if (r.history.length > 0) {
      rec.history = r.history.map((h): HistoryRef => {
        const at = addressRef(h);
        return { pool: at.pool, range: at.range, table: at.pool.tables[at.range], offset: at.offset };
      });
    }
  });
  return state;
}
