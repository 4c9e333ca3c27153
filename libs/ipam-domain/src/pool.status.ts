/**
 * The status projection every query returns (Harvester's IPPool status names): counts are exact; a
 * count too large for a JSON number (IPv6) is given as a decimal string.
 */
import { decodeAddress, formatAddress } from './address.js';
import { CANONICAL_API_VERSION, PoolSpec } from './pool-spec.js';
import { available, IpamState, PoolState } from './pool.state.js';

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

function sortedRecord<V>(map: Map<string, V>, value: (v: V) => string): Record<string, string> {
  const keys = [...map.keys()].map((text) => [decodeAddress(text), text] as const);
  keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, string> = {};
  for (const [, text] of keys) out[text] = value(map.get(text)!);
  return out;
}

export function poolStatus(pool: PoolState): PoolStatus {
  return {
    total: count(pool.def.total),
    available: count(available(pool)),
    lastAllocated: pool.lastAllocated === null ? '' : formatAddress(pool.lastAllocated),
    allocated: sortedRecord(pool.allocated, (lb) => lb),
    allocatedHistory: sortedRecord(pool.history, (h) => h.loadBalancer),
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
  const held = state.holdings.get(key);
  const pool = held ? state.pools.get(held.pool) : undefined;
  if (!held || !pool) return null;
  const range = pool.def.ranges.find((r) => held.ip >= r.start && held.ip <= r.end);
  if (!range) return null;
  return {
    loadBalancer: key,
    ipPool: pool.def.name,
    ip: formatAddress(held.ip),
    mask: range.maskText,
    prefixLength: range.cidr.prefixLength,
    gateway: range.gatewayText,
  };
}
