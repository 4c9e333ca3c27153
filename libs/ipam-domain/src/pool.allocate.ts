/**
 * Which address a load balancer gets from a pool (semantics sections 3 and 4). Read-only on the state.
 */
import { familyOf } from './address.js';
import { FAMILY_BIT } from './pool-spec.js';
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
 * Next-fit for one family (spec.ipFamilies): the same cycle as nextFit, from the same cursor, passing
 * over the ranges of the other family, so a mixed pool hands out each family in its own ascending order.
 * `family` is a FAMILY_BIT bit.
 */
export function nextFitOfFamily(pool: PoolState, family: number): bigint | null {
  const free = pool.free;
  const ranges = pool.def.ranges;
  const n = free.length;
  const mine = (i: number) => (FAMILY_BIT[ranges[i].cidr.family] & family) !== 0;
  const last = lastAllocatedOf(pool);
  const at = last === null ? -1 : rangeIndexOf(pool, last);
  if (last === null || at < 0) {
    for (let i = 0; i < n; i++) {
      const x = mine(i) ? free[i].first() : null;
      if (x !== null) return x;
    }
    return null;
  }
  if (mine(at)) {
    const after = free[at].firstAtOrAfter(last + 1n);
    if (after !== null) return after;
  }
  for (let k = 1; k < n; k++) {
    const i = (at + k) % n;
    const x = mine(i) ? free[i].first() : null;
    if (x !== null) return x;
  }
  if (!mine(at)) return null;
  const wrapped = free[at].first();
  return wrapped !== null && wrapped <= last ? wrapped : null;
}

/**
 * The address history names for this load balancer, if it is free and allocatable; among several,
 * the one released most recently (Harvester picks at random). With `family` (a FAMILY_BIT bit), only
 * addresses of that family count: history is kept per family.
 */
export function fromHistory(
  state: IpamState,
  pool: PoolState,
  loadBalancer: string,
  family = 0,
): bigint | null {
  const rec = state.loadBalancers.get(loadBalancer);
  if (rec === undefined || rec.history === null) return null;
  let bestKey: bigint | null = null;
  let bestSeq = -1;
  for (const ref of rec.history) {
    if (ref.pool !== pool) continue;
    // the reference may be stale: the entry counts only while it still names this load balancer
    if (pool.tables[ref.range] !== ref.table || ref.table.history(ref.offset) !== rec) continue;
    const k = refAddress(ref);
    if (family !== 0 && (FAMILY_BIT[familyOf(k)] & family) === 0) continue;
    const seq = ref.table.historySeq(ref.offset);
    if (seq > bestSeq && isAllocatable(pool, k) && isFree(pool, k)) {
      bestKey = k;
      bestSeq = seq;
    }
  }
  return bestKey;
}
