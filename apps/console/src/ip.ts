/**
 * Addresses as bigints (exact for IPv6), the way the service counts them: a range's first and last
 * allocatable address and its gateway (docs/semantics.md section 2); addresses are parsed and written by
 * libs/ipam-domain/src/address.ts.
 * Nothing here enumerates a range: callers ask for one page of addresses at a time.
 */
import {
  bitsOf,
  familyOf,
  formatAddress,
  parseAddress,
  parseCidr as parseCidrKeys,
  V4_BASE,
  type Family,
} from '../../../libs/ipam-domain/src/address.js';

export { bitsOf, type Family } from '../../../libs/ipam-domain/src/address.js';

/** An address as its family and its value within the family (the domain's key without the IPv4 base). */
export interface Address {
  family: Family;
  value: bigint;
}

const baseOf = (family: Family): bigint => (family === 4 ? V4_BASE : 0n);

/** The address of a text as the service parses it (libs/ipam-domain), or null. */
export function parseIp(text: string): Address | null {
  try {
    const key = parseAddress(text.trim());
    const family = familyOf(key);
    return { family, value: key - baseOf(family) };
  } catch {
    return null;
  }
}

/** The text of an address, IPv6 per RFC 5952 (as the service writes it). */
export function formatIp(family: Family, value: bigint): string {
  return formatAddress(baseOf(family) + value);
}

export interface Cidr {
  family: Family;
  network: bigint;
  last: bigint;
  prefixLength: number;
}

export function parseCidr(text: string): Cidr | null {
  try {
    const c = parseCidrKeys(text);
    const base = baseOf(c.family);
    return { family: c.family, network: c.network - base, last: c.last - base, prefixLength: c.prefixLength };
  } catch {
    return null;
  }
}

/** What the service makes of one range of a pool's spec. */
export interface RangeBounds {
  cidr: Cidr;
  start: bigint;
  end: bigint;
  gateway: bigint | null;
  /** allocatable addresses: start..end without the gateway */
  total: bigint;
}

export function rangeBounds(r: {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}): RangeBounds | null {
  const cidr = parseCidr(r.subnet);
  if (!cidr) return null;
  const bits = bitsOf(cidr.family);
  const given = (t: string | undefined) => (t ? (parseIp(t)?.value ?? null) : null);
  let start: bigint;
  let end: bigint;
  let gateway: bigint | null;
  if (cidr.prefixLength === bits) {
    start = end = cidr.network;
    gateway = null;
  } else if (cidr.prefixLength === bits - 1) {
    start = cidr.network;
    end = cidr.last;
    gateway = cidr.network + 1n;
  } else {
    start = cidr.network + 1n;
    end = cidr.family === 4 ? cidr.last - 1n : cidr.last;
    gateway = cidr.network + 1n;
  }
  start = given(r.rangeStart) ?? start;
  end = given(r.rangeEnd) ?? end;
  gateway = given(r.gateway) ?? gateway;
  const inside = gateway !== null && gateway >= start && gateway <= end;
  return { cidr, start, end, gateway, total: end - start + 1n - (inside ? 1n : 0n) };
}

/** A count of the service (a number, or a decimal string past 2^53) as a bigint. */
export function countOf(n: number | string): bigint {
  return BigInt(n);
}

/** 1234567 -> "1,234,567" (exact for bigints). */
export function grouped(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** allocated / total as a percentage with two decimals, exact. */
export function percent(part: bigint, whole: bigint): number {
  if (whole <= 0n) return 0;
  return Number((part * 10000n) / whole) / 100;
}
