/**
 * Addresses as bigints (exact for IPv6), the way the service counts them: a range's first and last
 * allocatable address and its gateway (docs/semantics.md section 2, as libs/ipam-domain parses them).
 * Nothing here enumerates a range: callers ask for one page of addresses at a time.
 */
export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(text: string): bigint | null {
  const m = V4.exec(text);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || (m[i].length > 1 && m[i].startsWith('0'))) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(text: string): bigint | null {
  let t = text.toLowerCase();
  if (t.includes('.')) {
    // an IPv4 tail (::ffff:192.0.2.1) becomes two groups
    const at = t.lastIndexOf(':');
    const v4 = parseV4(t.slice(at + 1));
    if (v4 === null) return null;
    t = `${t.slice(0, at + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const given = head.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [...head, ...Array<string>(8 - given).fill('0'), ...tail];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(`0x${g}`);
  }
  return v;
}

export function parseIp(text: string): Address | null {
  const t = text.trim();
  if (t.includes(':')) {
    const value = parseV6(t);
    return value === null ? null : { family: 6, value };
  }
  const value = parseV4(t);
  return value === null ? null : { family: 4, value };
}

export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** The text of an address, IPv6 per RFC 5952 (as the service writes it). */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    const v = Number(value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => parts.slice(from, to).map((p) => p.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export interface Cidr {
  family: Family;
  network: bigint;
  last: bigint;
  prefixLength: number;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const bits = bitsOf(addr.family);
  const prefixLength = Number(lenText);
  if (prefixLength > bits) return null;
  const hostBits = BigInt(bits - prefixLength);
  const network = (addr.value >> hostBits) << hostBits;
  return { family: addr.family, network, last: network + (1n << hostBits) - 1n, prefixLength };
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

export function rangeBounds(r: { subnet: string; rangeStart?: string; rangeEnd?: string; gateway?: string }): RangeBounds | null {
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
