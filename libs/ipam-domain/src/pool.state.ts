/**
 * The state of every pool: one fold of the events (pool.evolve.ts). Plain data, mutated in place by
 * evolve only; decide reads it and never writes.
 */
import { decodeAddress } from './address.js';
import { IntervalSet } from './interval-set.js';
import type { PoolDefinition } from './pool-spec.js';

export interface HistoryEntry {
  loadBalancer: string;
  /** causation sequence of the release that wrote it: the most recent release wins */
  seq: number;
}

export interface PoolState {
  def: PoolDefinition;
  /** free allocatable addresses, one set per range in spec order */
  free: IntervalSet[];
  /**
   * canonical address text -> "namespace/name". Keyed by text, not bigint: V8 caches a string's hash
   * but hashes a bigint on every lookup, and the fold does several lookups per event.
   */
  allocated: Map<string, string>;
  /** canonical address text -> last holder (semantics section 4) */
  history: Map<string, HistoryEntry>;
  /** "namespace/name" -> addresses (text) whose history names it; usually one, so a small array */
  historyByLb: Map<string, string[]>;
  lastAllocated: bigint | null;
}

export interface Holding {
  pool: string;
  ip: bigint;
}

export interface IpamState {
  /** by name, in creation order */
  pools: Map<string, PoolState>;
  /** "namespace/name" -> its current address */
  holdings: Map<string, Holding>;
}

export function initialState(): IpamState {
  return { pools: new Map(), holdings: new Map() };
}

/** Which range of the pool holds the key within [start, end], or -1. */
export function rangeIndexOf(pool: PoolState, key: bigint): number {
  const ranges = pool.def.ranges;
  for (let i = 0; i < ranges.length; i++) {
    if (key >= ranges[i].start && key <= ranges[i].end) return i;
  }
  return -1;
}

/** Is the key allocatable in this pool (inside a range and not that range's gateway)? */
export function isAllocatable(pool: PoolState, key: bigint): boolean {
  const i = rangeIndexOf(pool, key);
  return i >= 0 && pool.def.ranges[i].gateway !== key;
}

export function isFree(pool: PoolState, key: bigint): boolean {
  const i = rangeIndexOf(pool, key);
  return i >= 0 && pool.free[i].has(key);
}

/** The allocated addresses as keys. */
export function allocatedKeys(pool: PoolState): bigint[] {
  return [...pool.allocated.keys()].map(decodeAddress);
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
    const holes: bigint[] = [];
    if (r.gateway !== null && r.gateway >= r.start && r.gateway <= r.end) holes.push(r.gateway);
    for (const k of taken) if (k >= r.start && k <= r.end) holes.push(k);
    holes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const set = new IntervalSet();
    let cursor = r.start;
    for (const h of holes) {
      if (h < cursor) continue;
      if (h > cursor) set.addRange(cursor, h - 1n);
      cursor = h + 1n;
    }
    if (cursor <= r.end) set.addRange(cursor, r.end);
    return set;
  });
}
