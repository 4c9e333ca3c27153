/**
 * The state of every pool: one fold of the events (pool.evolve.ts). Plain data, mutated in place by
 * evolve only; decide reads it and never writes.
 */
import { AddressTable } from './address-table.js';
import { IntervalSet } from './interval-set.js';
import { inIntervals, type PoolDefinition } from './pool-spec.js';

/**
 * Where a history entry naming a load balancer was written (checked on read: it may be overwritten):
 * the address, and its table and offset, so that the check is one slot read.
 */
export interface HistoryRef {
  pool: PoolState;
  /** the range's index, its table when the entry was written, and the offset in it (see refAddress) */
  range: number;
  table: AddressTable<LoadBalancerRecord>;
  offset: bigint | number;
}

/**
 * A load balancer the state knows: it holds an address, or some pool's history names it. The record is
 * shared by the address tables that name it, so one lookup by "namespace/name" finds everything.
 */
export interface LoadBalancerRecord {
  key: string;
  /** the pool it holds an address in, or null */
  pool: PoolState | null;
  /** where its address is while `pool` is set: range index and offset in its table (see heldAddress) */
  range: number;
  offset: bigint | number;
  /** the history entries written for it; some may have been overwritten since (see fromHistory) */
  history: HistoryRef[] | null;
  /** the addresses it holds, plus the history entries that name it: the record leaves at 0 */
  refs: number;
  /** the addresses it holds beyond the first (spec.ipFamilies with both families), or null */
  more: AddressRef[] | null;
  /** the sharing group it holds its address(es) with (spec.sharingKey), or null */
  share: ShareGroup | null;
}

/** Where a held address is: its pool, its range's index and the offset in the range's table. */
export interface AddressRef {
  pool: PoolState;
  range: number;
  offset: bigint | number;
}

/**
 * Load balancers of one namespace holding their address(es) under one sharing key. The first holder
 * (holders[0]) is the one the address tables name; every holder's record points at the same addresses.
 */
export interface ShareGroup {
  /** "namespace/sharingKey" (shareId) */
  id: string;
  sharingKey: string;
  /** the current holders, oldest first */
  holders: LoadBalancerRecord[];
}

export interface PoolState {
  def: PoolDefinition;
  /**
   * The pool's version: the stream sequence of the input whose PoolAccepted last created or updated it
   * (that outcome's causationSeq); allocations and releases do not change it. 0 when not known.
   */
  version: number;
  /** free allocatable addresses, one set per range in spec order */
  free: IntervalSet[];
  /** holder and history per address, one table per range in spec order (offsets from its start) */
  tables: Array<AddressTable<LoadBalancerRecord>>;
  allocatedCount: number;
  historyCount: number;
  /** the last address allocated (semantics section 3): read it with lastAllocatedOf */
  lastAllocated: bigint | null;
  /**
   * When >= 0, lastAllocated is lastBase + lastOffset: the fold keeps it so, as a number from a
   * bigint it already has (V4_BASE, a range's start), and makes no bigint per allocation; else -1.
   */
  lastOffset: number;
  lastBase: bigint;
}

export interface Holding {
  pool: string;
  ip: bigint;
}

export interface IpamState {
  /** by name, in creation order */
  pools: Map<string, PoolState>;
  /** "namespace/name" -> what the state knows of it */
  loadBalancers: Map<string, LoadBalancerRecord>;
  /** how many load balancers hold an address */
  held: number;
  /** sharing groups by "namespace/sharingKey" (shareId), while any load balancer holds under the key */
  shares: Map<string, ShareGroup>;
  /**
   * Records that left `loadBalancers`, kept for reuse: a long replay creates and drops hundreds of
   * thousands of them, and reusing them keeps the garbage collector out of the fold.
   */
  spare: LoadBalancerRecord[];
}

export function initialState(): IpamState {
  return { pools: new Map(), loadBalancers: new Map(), held: 0, shares: new Map(), spare: [] };
}

/** The largest offset kept as a number (IntervalSet and AddressTable take numbers below 2^53 - 1). */
const MAX_NUMBER_OFFSET = 2n ** 53n - 2n;

/**
 * An offset from a range's start as the tables and free sets take it: a number while exact, else the
 * bigint. One address always gets the same form, so offsets compare with ===.
 */
export function offsetValue(offset: bigint): bigint | number {
  return offset <= MAX_NUMBER_OFFSET ? Number(offset) : offset;
}

export function newPoolState(def: PoolDefinition, version = 0): PoolState {
  return {
    def,
    version,
    free: buildFreeSets(def, []),
    tables: def.ranges.map((r) => new AddressTable<LoadBalancerRecord>(r.end - r.start + 1n)),
    allocatedCount: 0,
    historyCount: 0,
    lastAllocated: null,
    lastOffset: -1,
    lastBase: 0n,
  };
}

/** The last address allocated in the pool, or null (the fold keeps it as a base and a number). */
export function lastAllocatedOf(pool: PoolState): bigint | null {
  return pool.lastOffset >= 0 ? pool.lastBase + BigInt(pool.lastOffset) : pool.lastAllocated;
}

/** The address a load balancer holds (its record must hold one). */
export function heldAddress(rec: LoadBalancerRecord): bigint {
  return rec.pool!.def.ranges[rec.range].start + BigInt(rec.offset);
}

/** The address of a held-address reference. */
export function refKey(ref: AddressRef): bigint {
  return ref.pool.def.ranges[ref.range].start + BigInt(ref.offset);
}

/** Every address a load balancer holds (its record must hold one), the first first. */
export function heldRefs(rec: LoadBalancerRecord): AddressRef[] {
  const first: AddressRef = { pool: rec.pool!, range: rec.range, offset: rec.offset };
  return rec.more === null ? [first] : [first, ...rec.more];
}

/** The key of a sharing group: the namespace and the sharing key, as one flat string (see lbKey). */
export function shareId(namespace: string, sharingKey: string): string {
  return [namespace, sharingKey].join('/');
}

/** The address of a history reference (valid while the reference is live). */
export function refAddress(ref: HistoryRef): bigint {
  return ref.pool.def.ranges[ref.range].start + BigInt(ref.offset);
}

/** The address a load balancer holds, or undefined. */
export function holdingOf(state: IpamState, loadBalancer: string): Holding | undefined {
  const rec = state.loadBalancers.get(loadBalancer);
  return rec?.pool ? { pool: rec.pool.def.name, ip: heldAddress(rec) } : undefined;
}

/** Who holds the address in this pool ("namespace/name"), or null. */
export function holderOf(pool: PoolState, key: bigint): string | null {
  const i = rangeIndexOf(pool, key);
  return i < 0 ? null : (pool.tables[i].holder(key - pool.def.ranges[i].start)?.key ?? null);
}

/** An address in use in a pool's tables: its holder, its history entry (and that entry's sequence). */
export interface TableEntry {
  ip: bigint;
  holder: LoadBalancerRecord | null;
  history: LoadBalancerRecord | null;
  seq: number;
}

/** Every address in use in the pool's tables, range by range in spec order. */
export function tableEntries(pool: PoolState): TableEntry[] {
  const out: TableEntry[] = [];
  pool.tables.forEach((table, i) => {
    const start = pool.def.ranges[i].start;
    for (const e of table.entries()) out.push({ ...e, ip: start + e.offset });
  });
  return out;
}

export interface AddressRecord {
  ip: bigint;
  /** "namespace/name" */
  loadBalancer: string;
}

/** Every held address with its holder, in address order. */
export function allocatedEntries(pool: PoolState): AddressRecord[] {
  return collect(pool, true);
}

/** Every history entry (address and last holder), in address order. */
export function historyEntries(pool: PoolState): AddressRecord[] {
  return collect(pool, false);
}

function collect(pool: PoolState, held: boolean): AddressRecord[] {
  const out: AddressRecord[] = [];
  for (const e of tableEntries(pool)) {
    const rec = held ? e.holder : e.history;
    if (rec !== null) out.push({ ip: e.ip, loadBalancer: rec.key });
  }
  // ranges are in spec order, not address order
  out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return out;
}

/** Which range of the pool holds the key within [start, end], or -1. */
export function rangeIndexOf(pool: PoolState, key: bigint): number {
  const ranges = pool.def.ranges;
  for (let i = 0; i < ranges.length; i++) {
    if (key >= ranges[i].start && key <= ranges[i].end) return i;
  }
  return -1;
}

/** Is the key allocatable in this pool (inside a range, not that range's gateway, not excluded)? */
export function isAllocatable(pool: PoolState, key: bigint): boolean {
  const i = rangeIndexOf(pool, key);
  if (i < 0) return false;
  const r = pool.def.ranges[i];
  return r.gateway !== key && !inIntervals(r.excluded, key);
}

/** Is the key one of the range's excluded addresses (spec.ranges[].exclude)? */
export function isExcluded(pool: PoolState, key: bigint): boolean {
  const i = rangeIndexOf(pool, key);
  return i >= 0 && inIntervals(pool.def.ranges[i].excluded, key);
}

export function isFree(pool: PoolState, key: bigint): boolean {
  const i = rangeIndexOf(pool, key);
  return i >= 0 && pool.free[i].has(key);
}

export function available(pool: PoolState): bigint {
  let sum = 0n;
  for (const f of pool.free) sum += f.size;
  return sum;
}

/** Builds the free sets of a definition, leaving out the given allocated keys. */
export function buildFreeSets(def: PoolDefinition, allocated: Iterable<bigint>): IntervalSet[] {
  const taken = [...allocated].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return def.ranges.map((r) => {
    // holes as closed intervals: the gateway, the allocated keys, the excluded addresses
    const holes: Array<[bigint, bigint]> = [];
    if (r.gateway !== null && r.gateway >= r.start && r.gateway <= r.end) holes.push([r.gateway, r.gateway]);
    for (const k of taken) if (k >= r.start && k <= r.end) holes.push([k, k]);
    for (let x = 0; x < r.excluded.length; x += 2) holes.push([r.excluded[x], r.excluded[x + 1]]);
    holes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const set = new IntervalSet(r.start, r.end - r.start + 1n);
    let cursor = r.start;
    for (const [h, e] of holes) {
      if (e < cursor) continue;
      if (h > cursor) set.addRange(cursor, h - 1n);
      cursor = e + 1n;
    }
    if (cursor <= r.end) set.addRange(cursor, r.end);
    return set;
  });
}
