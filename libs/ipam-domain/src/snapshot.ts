/**
 * The decider's state as plain JSON-able data, and back: exportState / importState. Pure (no I/O, no
 * clock); the service stores what exportState returns (libs/jetstream snapshot-store.ts) and starts from
 * importState instead of folding the whole stream. The contract: deciding and folding any further
 * inputs on `importState(exportState(s))` gives the events they give on `s` (snapshot.spec.ts).
 *
 * What is kept, per the layout of pool.state.ts:
 * - pools in creation order (selection walks them in that order): name, canonical spec (the definition
 *   is parsed again from it), version, counts, the last address allocated and the free intervals per
 *   range;
 * - load-balancer records in map order, column by column: key, reference count, sharing group, holding
 *   (pool, range, offset), the addresses held beyond the first (dual-stack) and the *live* history
 *   references in order with their sequences (stale ones are skipped by every reader and dropped by the
 *   fold; their order breaks ties between entries of one sequence, so it is kept);
 * - sharing groups in map order with their holders oldest first.
 *
 * The address tables are written back from the records: every used slot holds a record's address (the
 * first holder's, for a sharing group) or is one of its live history entries. What a slot held before
 * and nobody reads (the sequence left on a slot since taken again, empty pages) is not kept, nor are
 * caches (the last page found, the spare records, the number form of lastAllocated).
 *
 * Offsets are numbers while exact (below 2^53), else decimal text; addresses are decimal text. Records
 * and pools are named by their index in the lists.
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
}

/**
 * The load-balancer records, column by column (index i is one record, in map order). The address
 * tables are not stored: every used slot is a record's holding (the first holder of a sharing group)
 * or one of its live history entries, and is written back from them.
 */
export interface RecordsSnapshot {
  key: string[];
  refs: number[];
  /** index of its sharing group, or -1 */
  share: number[];
  /** its (first) address: pool index (-1: none), range index, offset; three entries per record */
  hold: SnapshotOffset[];
  /** records holding more addresses (dual-stack): [record, pool, range, offset, pool, range, offset, ...] */
  more: SnapshotOffset[][];
  /** records with live history entries, in their order: [record, pool, range, offset, seq, ...] */
  history: SnapshotOffset[][];
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
  records: RecordsSnapshot;
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

/** An offset as the tables take it (offsetValue): numbers stay numbers, text becomes the bigint. */
function offsetIn(o: SnapshotOffset): bigint | number {
  return typeof o === 'number' ? o : offsetValue(BigInt(o));
}

function bigOffset(o: SnapshotOffset): bigint {
  return BigInt(o);
}

/** Plain data of the whole state (see the module comment). Synchronous and read-only. */
export function exportState(state: IpamState): StateSnapshot {
  const poolIndex = new Map<PoolState, number>();
  const pools = [...state.pools.values()];
  pools.forEach((p, i) => poolIndex.set(p, i));
  const shareIndex = new Map<ShareGroup, number>();
  const groups = [...state.shares.values()];
  groups.forEach((g, i) => shareIndex.set(g, i));
  const recordIndex = new Map<LoadBalancerRecord, number>();

  const poolOf = (pool: PoolState): number => {
    const i = poolIndex.get(pool);
    if (i === undefined) throw new SnapshotError(`a reference names pool ${pool.def.name}, which is gone`);
    return i;
  };

  // columns allocated at their size at once: growing them would copy (and wake the collector) often
  const n = state.loadBalancers.size;
  const key = new Array<string>(n);
  const refs = new Array<number>(n);
  const share = new Array<number>(n);
  const hold = new Array<SnapshotOffset>(3 * n);
  const records: RecordsSnapshot = { key, refs, share, hold, more: [], history: [] };
  let i = 0;
  for (const rec of state.loadBalancers.values()) {
    if (rec.share !== null) recordIndex.set(rec, i); // only sharing groups name records by index
    key[i] = rec.key;
    refs[i] = rec.refs;
    share[i] = rec.share === null ? -1 : (shareIndex.get(rec.share) ?? -1);
    if (rec.pool === null) {
      hold[3 * i] = -1;
      hold[3 * i + 1] = 0;
      hold[3 * i + 2] = 0;
    } else {
      hold[3 * i] = poolOf(rec.pool);
      hold[3 * i + 1] = rec.range;
      hold[3 * i + 2] = offsetOut(rec.offset);
    }
    if (rec.more !== null) {
      const row: SnapshotOffset[] = [i];
      for (const m of rec.more) row.push(poolOf(m.pool), m.range, offsetOut(m.offset));
      records.more.push(row);
    }
    if (rec.history !== null && rec.history.length > 0) {
      const row: SnapshotOffset[] = [i];
      for (const h of rec.history) {
        if (!liveRef(state, rec, h)) continue;
        row.push(poolOf(h.pool), h.range, offsetOut(h.offset), h.table.historySeq(h.offset));
      }
      if (row.length > 1) records.history.push(row);
    }
    i++;
  }

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
    };
  });

  const shares: ShareSnapshot[] = groups.map((g) => ({
    id: g.id,
    sharingKey: g.sharingKey,
    holders: g.holders.map((h) => {
      const k = recordIndex.get(h);
      if (k === undefined)
        throw new SnapshotError(`sharing group ${g.id} names ${h.key}, which the state does not list`);
      return k;
    }),
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
    if (p.free.length !== def.ranges.length)
      throw new SnapshotError(`pool ${p.name}: ${def.ranges.length} ranges, ${p.free.length} free sets`);
    const pool: PoolState = {
      def,
      version: p.version,
      free: def.ranges.map((r, i) => {
        const set = new IntervalSet(r.start, r.end - r.start + 1n);
        const flat = p.free[i];
        for (let k = 0; k + 1 < flat.length; k += 2)
          set.addRange(r.start + bigOffset(flat[k]), r.start + bigOffset(flat[k + 1]));
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
  const poolAt = (i: SnapshotOffset): PoolState => {
    const pool = pools[i as number];
    if (pool === undefined) throw new SnapshotError(`no pool ${String(i)}`);
    return pool;
  };

  const r = snapshot.records;
  const n = r.key.length;
  if (r.refs.length !== n || r.share.length !== n || r.hold.length !== 3 * n)
    throw new SnapshotError('the record columns differ in length');
  const recs: LoadBalancerRecord[] = new Array<LoadBalancerRecord>(n);
  for (let i = 0; i < n; i++) {
    const rec: LoadBalancerRecord = {
      key: r.key[i],
      pool: null,
      range: -1,
      offset: 0,
      history: null,
      refs: r.refs[i],
      more: null,
      share: null,
    };
    const p = r.hold[3 * i] as number;
    if (p >= 0) {
      rec.pool = poolAt(p);
      rec.range = r.hold[3 * i + 1] as number;
      rec.offset = offsetIn(r.hold[3 * i + 2]);
    }
    recs[i] = rec;
    state.loadBalancers.set(rec.key, rec);
  }
  const recAt = (i: SnapshotOffset): LoadBalancerRecord => {
    const rec = recs[i as number];
    if (rec === undefined) throw new SnapshotError(`no record ${String(i)}`);
    return rec;
  };
  for (const row of r.more) {
    const rec = recAt(row[0]);
    const more: AddressRef[] = [];
    for (let k = 1; k + 2 < row.length; k += 3)
      more.push({ pool: poolAt(row[k]), range: row[k + 1] as number, offset: offsetIn(row[k + 2]) });
    rec.more = more;
  }
  const groups: ShareGroup[] = snapshot.shares.map((g) => {
    const group: ShareGroup = { id: g.id, sharingKey: g.sharingKey, holders: g.holders.map(recAt) };
    state.shares.set(g.id, group);
    return group;
  });
  for (let i = 0; i < n; i++) {
    const k = r.share[i];
    if (k < 0) continue;
    const group = groups[k];
    if (group === undefined) throw new SnapshotError(`record ${r.key[i]}: no sharing group ${k}`);
    recs[i].share = group;
  }
  // the tables: history entries first (a holding erases the entry of its slot), then the holdings
  for (const row of r.history) {
    const rec = recAt(row[0]);
    const list: HistoryRef[] = [];
    for (let k = 1; k + 3 < row.length; k += 4) {
      const pool = poolAt(row[k]);
      const range = row[k + 1] as number;
      const offset = offsetIn(row[k + 2]);
      const table = pool.tables[range];
      if (table === undefined)
        throw new SnapshotError(`record ${rec.key}: no range ${range} in ${pool.def.name}`);
      table.setHistory(offset, rec, row[k + 3] as number);
      list.push({ pool, range, table, offset });
    }
    rec.history = list;
  }
  for (const rec of recs) {
    if (rec.pool === null) continue;
    // a sharing group's later holders point at the first one's addresses; the tables name the first
    if (rec.share !== null && rec.share.holders[0] !== rec) continue;
    const table = rec.pool.tables[rec.range];
    if (table === undefined) throw new SnapshotError(`record ${rec.key}: no range ${rec.range}`);
    table.hold(rec.offset, rec);
    if (rec.more !== null) for (const m of rec.more) m.pool.tables[m.range].hold(m.offset, rec);
  }
  return state;
}
