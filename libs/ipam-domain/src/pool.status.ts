/**
 * The status projection every query returns (Harvester's IPPool status names): counts are exact; a
 * count too large for a JSON number (IPv6) is given as a decimal string.
 */
import { familyOf, formatAddress } from './address.js';
import { CANONICAL_API_VERSION, PoolSpec } from './pool-spec.js';
import {
  AddressRecord,
  allocatedEntries,
  available,
  heldAddress,
  heldRefs,
  historyEntries,
  IpamState,
  lastAllocatedOf,
  PoolState,
  refKey,
  tableEntries,
} from './pool.state.js';

export type Count = number | string;

export interface PoolStatus {
  total: Count;
  available: Count;
  lastAllocated: string;
  allocated: Record<string, string>;
  allocatedHistory: Record<string, string>;
  /**
   * the addresses the ranges exclude (spec.ranges[].exclude) inside their bounds, merged, in address
   * order: `10.0.0.5` or `10.0.0.10-10.0.0.20`; absent when the pool excludes nothing
   */
  excluded?: string[];
  /**
   * address -> every load balancer holding it under one sharing key, oldest first (`allocated` names
   * the oldest); only addresses held by more than one; absent when none is
   */
  shared?: Record<string, string[]>;
}

export interface IPPoolView {
  apiVersion: string;
  kind: 'IPPool';
  /**
   * `resourceVersion`: the pool's version as a decimal text (Kubernetes' convention: opaque to clients),
   * the stream sequence of the input whose PoolAccepted last created or updated it. HTTP gives the same
   * as the ETag of the pool.
   */
  metadata: { name: string; resourceVersion: string };
  spec: PoolSpec;
  status: PoolStatus;
}

export function count(n: bigint): Count {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/** Address text -> "namespace/name", in address order. */
function addressRecord(entries: AddressRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) out[formatAddress(e.ip)] = e.loadBalancer;
  return out;
}

export function poolStatus(pool: PoolState): PoolStatus {
  const last = lastAllocatedOf(pool);
  return {
    total: count(pool.def.total),
    available: count(available(pool)),
    lastAllocated: last === null ? '' : formatAddress(last),
    allocated: addressRecord(allocatedEntries(pool)),
    allocatedHistory: addressRecord(historyEntries(pool)),
    ...excludedOf(pool),
    ...sharedOf(pool),
  };
}

/** `{shared}` when an address of the pool has more than one holder, else nothing. */
function sharedOf(pool: PoolState): { shared?: Record<string, string[]> } {
  const entries = tableEntries(pool).filter((e) => (e.holder?.share?.holders.length ?? 0) > 1);
  if (entries.length === 0) return {};
  entries.sort((a, b) => (a.ip < b.ip ? -1 : 1));
  const out: Record<string, string[]> = {};
  for (const e of entries) out[formatAddress(e.ip)] = e.holder!.share!.holders.map((h) => h.key);
  return { shared: out };
}

/** `{excluded}` when the pool's ranges exclude addresses, else nothing (a status reads as before). */
function excludedOf(pool: PoolState): { excluded?: string[] } {
  const spans: Array<[bigint, bigint]> = [];
  for (const r of pool.def.ranges) {
    for (let i = 0; i < r.excluded.length; i += 2) spans.push([r.excluded[i], r.excluded[i + 1]]);
  }
  if (spans.length === 0) return {};
  spans.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  // adjacent ranges' exclusions read as one run
  const runs: Array<[bigint, bigint]> = [];
  for (const [a, b] of spans) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] + 1n === a && familyOf(a) === familyOf(last[1])) last[1] = b;
    else runs.push([a, b]);
  }
  return {
    excluded: runs.map(([a, b]) => (a === b ? formatAddress(a) : `${formatAddress(a)}-${formatAddress(b)}`)),
  };
}

export function poolView(pool: PoolState): IPPoolView {
  return {
    apiVersion: CANONICAL_API_VERSION,
    kind: 'IPPool',
    metadata: { name: pool.def.name, resourceVersion: String(pool.version) },
    spec: pool.def.spec,
    status: poolStatus(pool),
  };
}

/** Every pool, by name. */
export function poolViews(state: IpamState): IPPoolView[] {
  return [...state.pools.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : 1)).map(poolView);
}

export interface LoadBalancerView {
  loadBalancer: string;
  ipPool: string;
  ip: string;
  mask: string;
  prefixLength: number;
  gateway: string | null;
  /** every address it holds, when more than one (dual-stack) */
  addresses?: Array<{
    ip: string;
    mask: string;
    prefixLength: number;
    gateway: string | null;
    ipPool: string;
  }>;
  /** its sharing key, when it holds under one */
  sharingKey?: string;
  /** the other holders of its address(es), oldest first, when any */
  sharedWith?: string[];
}

/** The current address of a load balancer, or null when it holds none. */
export function loadBalancerView(state: IpamState, key: string): LoadBalancerView | null {
  const held = state.loadBalancers.get(key);
  const pool = held?.pool;
  if (!held || !pool) return null;
  const range = pool.def.ranges[held.range];
  const group = held.share;
  const others = group === null ? [] : group.holders.filter((h) => h !== held).map((h) => h.key);
  return {
    loadBalancer: key,
    ipPool: pool.def.name,
    ip: formatAddress(heldAddress(held)),
    mask: range.maskText,
    prefixLength: range.cidr.prefixLength,
    gateway: range.gatewayText,
    ...(held.more !== null
      ? {
          addresses: heldRefs(held).map((r) => {
            const rr = r.pool.def.ranges[r.range];
            return {
              ip: formatAddress(refKey(r)),
              mask: rr.maskText,
              prefixLength: rr.cidr.prefixLength,
              gateway: rr.gatewayText,
              ipPool: r.pool.def.name,
            };
          }),
        }
      : {}),
    ...(group !== null ? { sharingKey: group.sharingKey } : {}),
    ...(others.length > 0 ? { sharedWith: others } : {}),
  };
}
