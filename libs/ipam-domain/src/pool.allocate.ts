/**
 * Which address a load balancer gets from a pool (semantics sections 3 and 4). Read-only on the state.
 */
import {
  IpamState,
  isAllocatable,
  isFree,
  lastAllocatedOf,
  PoolState,
  rangeIndexOf,
  refAddress,
} from './pool.state.js';

/**
 * Next-fit: the first free address after lastAllocated, ascending within its range, then the following
 * ranges in spec order, wrapping round to lastAllocated itself; from the first range's start when
 * lastAllocated is empty or no longer inside the ranges. O(ranges * log holes).
 */
export function nextFit(pool: PoolState): bigint | null {
  const free = pool.free;
  const n = free.length;
  const last = lastAllocatedOf(pool);
  const at = last === null ? -1 : rangeIndexOf(pool, last);
  if (last === null || at < 0) {
    for (let i = 0; i < n; i++) {
      const x = free[i].first();
      if (x !== null) return x;
    }
    return null;
  }
  const after = free[at].firstAtOrAfter(last + 1n);
  if (after !== null) return after;
  for (let k = 1; k < n; k++) {
    const x = free[(at + k) % n].first();
    if (x !== null) return x;
  }
  const wrapped = free[at].first();
  return wrapped !== null && wrapped <= last ? wrapped : null;
}

/**
 * The address history names for this load balancer, if it is free and allocatable; among several,
 * the one released most recently (Harvester picks at random).
 */
export function fromHistory(state: IpamState, pool: PoolState, loadBalancer: string): bigint | null {
  const rec = state.loadBalancers.get(loadBalancer);
  if (rec === undefined || rec.history === null) return null;
  let bestKey: bigint | null = null;
  let bestSeq = -1;
  for (const ref of rec.history) {
    if (ref.pool !== pool) continue;
    // the reference may be stale: the entry counts only while it still names this load balancer
    if (pool.tables[ref.range] !== ref.table || ref.table.history(ref.offset) !== rec) continue;
    const k = refAddress(ref);
    const seq = ref.table.historySeq(ref.offset);
    if (seq > bestSeq && isAllocatable(pool, k) && isFree(pool, k)) {
      bestKey = k;
      bestSeq = seq;
    }
  }
  return bestKey;
}
