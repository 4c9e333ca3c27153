/**
 * The status projection every query returns (Harvester's IPPool status names): counts are exact; a
 * count too large for a JSON number (IPv6) is given as a decimal string.
 */
import { formatAddress } from './address.js';
import { CANONICAL_API_VERSION, PoolSpec } from './pool-spec.js';
import {
  AddressRecord,
  allocatedEntries,
  available,
  heldAddress,
  historyEntries,
  IpamState,
  lastAllocatedOf,
  PoolState,
} from './pool.state.js';

export type Count = number | string;

export interface PoolStatus {
  total: Count;
  available: Count;
  lastAllocated: string;
  allocated: Record<string, string>;
  allocatedHistory: Record<string, string>;
}

export interface IPPoolView {
  apiVersion: string;
  kind: 'IPPool';
  metadata: { name: string };
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
  };
}

export function poolView(pool: PoolState): IPPoolView {
  return {
    apiVersion: CANONICAL_API_VERSION,
    kind: 'IPPool',
    metadata: { name: pool.def.name },
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
}

/** The current address of a load balancer, or null when it holds none. */
export function loadBalancerView(state: IpamState, key: string): LoadBalancerView | null {
  const held = state.loadBalancers.get(key);
  const pool = held?.pool;
  if (!held || !pool) return null;
  const range = pool.def.ranges[held.range];
  return {
    loadBalancer: key,
    ipPool: pool.def.name,
    ip: formatAddress(heldAddress(held)),
    mask: range.maskText,
    prefixLength: range.cidr.prefixLength,
    gateway: range.gatewayText,
  };
}
