/**
 * Addresses as bigint keys: the only file that knows textual IP syntax.
 *
 * One key space holds both families so that sets, maps and overlap checks need no family tag:
 * an IPv6 address is its 128-bit value, an IPv4 address is `V4_BASE + value` (above every IPv6 key).
 *
 * Strict parsing of user input goes through ipaddr.js. Text that this service produced itself
 * (canonical dotted quads and RFC 5952 IPv6) is decoded and encoded by the small fast codec below, which
 * the fold and the allocation loop use; its output is checked against ipaddr.js by the tests.
 */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export const V4_BASE = 1n << 128n;

export interface Cidr {
  family: Family;
  /** key of the network address (host bits masked off) */
  network: bigint;
  /** key of the last address of the subnet */
  last: bigint;
  prefixLength: number;
}

/** Why a piece of address text was refused; the caller turns it into a domain error. */
export class AddressSyntaxError extends Error {}

export function familyOf(key: bigint): Family {
  return key >= V4_BASE ? 4 : 6;
}

export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

/**
 * Parses one address strictly: canonical-enough decimal dotted quads for IPv4 (no octal, hex or
 * shortened forms, no leading zeros), IPv6 without a zone and not IPv4-mapped.
 */
export function parseAddress(text: string): bigint {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) {
    throw new AddressSyntaxError(`"${String(text)}" is not an IP address`);
  }
  if (text.includes('.') && !text.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
      throw new AddressSyntaxError(
        `"${text}" is not an IPv4 address in dotted decimal form (four decimal numbers 0-255, no leading zeros)`,
      );
    }
    return (
      V4_BASE +
      BigInt(
        ipaddr.IPv4.parse(text)
          .toByteArray()
          .reduce((acc, b) => acc * 256 + b, 0),
      )
    );
  }
  if (text.includes('%')) {
    throw new AddressSyntaxError(`"${text}" has a zone index; zoned IPv6 addresses are not accepted`);
  }
  if (!ipaddr.IPv6.isValid(text)) {
    throw new AddressSyntaxError(`"${text}" is not an IP address`);
  }
  const v6 = ipaddr.IPv6.parse(text);
  if (v6.isIPv4MappedAddress()) {
    throw new AddressSyntaxError(
      `"${text}" is an IPv4-mapped IPv6 address; write the IPv4 address ${v6.toIPv4Address().toString()} instead`,
    );
  }
  let value = 0n;
  for (const part of v6.parts) value = (value << 16n) | BigInt(part);
  return value;
}

/** Parses `address/prefix`; host bits are masked off (192.168.10.7/24 is 192.168.10.0/24). */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw new AddressSyntaxError(`"${String(text)}" is not a CIDR`);
  const slash = text.indexOf('/');
  if (slash < 0) {
    throw new AddressSyntaxError(
      `"${text}" is not a CIDR: write address/prefix, for example 192.168.100.0/24`,
    );
  }
  const prefixText = text.slice(slash + 1);
  const key = parseAddress(text.slice(0, slash));
  const family = familyOf(key);
  const bits = bitsOf(family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    throw new AddressSyntaxError(
      `"${text}" has prefix length "${prefixText}"; it must be 0-${bits} for IPv${family}`,
    );
  }
  const prefixLength = Number(prefixText);
  const hostBits = BigInt(bits - prefixLength);
  const base = family === 4 ? V4_BASE : 0n;
  const value = key - base;
  const network = (value >> hostBits) << hostBits;
  return { family, network: base + network, last: base + network + ((1n << hostBits) - 1n), prefixLength };
}

/** The last key formatted and its text: `evolve` decodes what `decide` just formatted. */
let lastKey = -1n;
let lastText = '';

/** The key of the text formatAddress returned last, when `text` is that text; else null. */
export function lastFormatted(text: string): bigint | null {
  return text === lastText ? lastKey : null;
}

/** Formats a key: dotted quad or RFC 5952 IPv6 (the same text ipaddr.js produces). */
export function formatAddress(key: bigint): string {
  if (key === lastKey) return lastText;
  const text = key >= V4_BASE ? formatV4(Number(key - V4_BASE)) : formatV6(key);
  // the memo answers decodeAddress too: never for text the strict parser refuses (IPv4-mapped)
  if (key >= V4_BASE || key >> 32n !== MAPPED_PREFIX) {
    lastKey = key;
    lastText = text;
  }
  return text;
}

function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function formatV6(key: bigint): string {
  const hex = key.toString(16).padStart(32, '0');
  const parts: number[] = new Array(8);
  for (let i = 0; i < 8; i++) parts[i] = parseInt(hex.slice(i * 4, i * 4 + 4), 16);
  // RFC 5952: compress the longest run (leftmost on a tie) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
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
  const group = (from: number, to: number) => {
    let out = '';
    for (let i = from; i < to; i++) out += (i > from ? ':' : '') + parts[i].toString(16);
    return out;
  };
  if (bestStart < 0) return group(0, 8);
  return `${group(0, bestStart)}::${group(bestStart + bestLen, 8)}`;
}

/**
 * Decodes text this service wrote itself (canonical forms). Falls back to the strict parser for anything
 * else, so it accepts exactly what parseAddress accepts.
 */
export function decodeAddress(text: string): bigint {
  const known = lastFormatted(text);
  if (known !== null) return known;
  if (!text.includes(':')) {
    const value = decodeV4(text);
    return value < 0 ? parseAddress(text) : V4_BASE + BigInt(value);
  }
  return decodeV6(text) ?? parseAddress(text);
}

/**
 * The 32-bit value of a plain dotted quad (four decimal numbers 0-255 without leading zeros, the only
 * IPv4 form parseAddress accepts), or -1 for any other text. No bigint: the fold's IPv4 path stays in
 * numbers.
 */
export function decodeV4(text: string): number {
  let value = 0;
  let part = 0;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return value * 256 + part;
}

const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96

/** Scratch for decodeV6: the groups as written (decodeV6 is not re-entrant and never yields). */
const V6_GROUPS: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * An IPv6 address as three exact numbers, set by splitV6: the top 48 bits, the next 48 and the low 32
 * (module scratch: splitV6 is not re-entrant and never yields).
 */
export const V6_PARTS = { high: 0, middle: 0, low: 0 };

/**
 * Reads lower-case hex groups of 1-4 digits with at most one "::" (what formatV6 writes, and more) into
 * V6_PARTS; false for anything else, and for an IPv4-mapped address (the strict parser refuses those
 * with a reason). Reads the text once and allocates nothing.
 */
export function splitV6(text: string): boolean {
  const g = V6_GROUPS;
  const len = text.length;
  let n = 0;
  let gapAt = -1;
  let i = 0;
  if (len >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    gapAt = 0;
    i = 2;
  }
  while (i < len) {
    let value = 0;
    let digits = 0;
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0) break;
      if (++digits > 4) return false;
      value = value * 16 + d;
    }
    if (digits === 0 || n === 8) return false;
    g[n++] = value;
    if (i === len) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < len && text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return false;
      gapAt = n;
      i++;
    } else if (i === len) {
      return false; // a trailing single ':'
    }
  }
  const missing = 8 - n;
  if (gapAt < 0 ? missing !== 0 : missing < 1) return false;
  if (missing > 0) {
    // open the gap in place: the groups after it move to the end, zeros fill it
    for (let j = n - 1; j >= gapAt; j--) g[j + missing] = g[j];
    for (let j = gapAt; j < gapAt + missing; j++) g[j] = 0;
  }
  const high = g[0] * 0x100000000 + g[1] * 0x10000 + g[2];
  const middle = g[3] * 0x100000000 + g[4] * 0x10000 + g[5];
  if (high === 0 && middle === 0xffff) return false;
  V6_PARTS.high = high;
  V6_PARTS.middle = middle;
  V6_PARTS.low = g[6] * 0x10000 + g[7];
  return true;
}

/** An IPv6 key as V6_PARTS holds an address (its inverse is v6Key). */
export function v6Parts(key: bigint): { high: number; middle: number; low: number } {
  return {
    high: Number(key >> 80n),
    middle: Number((key >> 32n) & 0xffffffffffffn),
    low: Number(key & 0xffffffffn),
  };
}

/** The key of V6_PARTS. */
function v6Key(): bigint {
  const { high, middle, low } = V6_PARTS;
  if (high === 0 && middle === 0) return BigInt(low);
  return (BigInt(high) << 80n) | (BigInt(middle) << 32n) | BigInt(low);
}

/** splitV6, as a key; null when splitV6 refuses the text. */
function decodeV6(text: string): bigint | null {
  return splitV6(text) ? v6Key() : null;
}

/**
 * The canonical text (what formatAddress writes) of an address given as text that decodes to `key`:
 * the text itself when it already is, which is always the case for IPv4 and for text we wrote.
 */
export function canonicalText(text: string, key: bigint): string {
  if (key >= V4_BASE || text === lastText || isCanonicalV6(text)) return text;
  return formatAddress(key);
}

/** RFC 5952 form: lower-case groups without leading zeros, "::" exactly for the leftmost longest zero run of 2+. */
function isCanonicalV6(text: string): boolean {
  const groups: number[] = [];
  let gapAt = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 58; // a final ':' closes the last group
    if (c === 58) {
      if (digits > 0) {
        groups.push(value);
      } else if (i + 1 < text.length && text.charCodeAt(i + 1) === 58 && gapAt < 0) {
        gapAt = groups.length;
        i++;
        if (i + 1 >= text.length) break;
        continue;
      } else if (!(i === text.length && gapAt === groups.length)) {
        return false;
      }
      value = 0;
      digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0 || digits === 4 || (digits > 0 && value === 0)) return false;
    value = value * 16 + d;
    digits++;
  }
  const gapLen = gapAt < 0 ? 0 : 8 - groups.length;
  if ((gapAt < 0 && groups.length !== 8) || (gapAt >= 0 && gapLen < 2)) return false;
  // the compressed run is maximal: no written zero group touches it
  if (gapAt >= 0 && (groups[gapAt - 1] === 0 || groups[gapAt] === 0)) return false;
  // the leftmost longest run of zero groups among the written ones must be shorter than the gap
  let run = 0;
  for (let i = 0; i < groups.length; i++) {
    run = groups[i] === 0 ? run + 1 : 0;
    if (run >= 2 && (gapAt < 0 || run > gapLen || (run === gapLen && i - run + 1 < gapAt))) return false;
  }
  return true;
}

/** The subnet mask: dotted for IPv4 (255.255.255.0), RFC 5952 for IPv6 (ffff:ffff:ffff:ffff::). */
export function formatMask(family: Family, prefixLength: number): string {
  const bits = BigInt(bitsOf(family));
  const ones = ((1n << BigInt(prefixLength)) - 1n) << (bits - BigInt(prefixLength));
  return formatAddress(family === 4 ? V4_BASE + ones : ones);
}

/** The smallest CIDR that contains both addresses (same family). */
export function commonPrefix(a: bigint, b: bigint): Cidr {
  const family = familyOf(a);
  const bits = bitsOf(family);
  const base = family === 4 ? V4_BASE : 0n;
  let x = (a - base) ^ (b - base);
  let hostBits = 0;
  while (x > 0n) {
    x >>= 1n;
    hostBits++;
  }
  const h = BigInt(hostBits);
  const network = base + (((a - base) >> h) << h);
  return { family, network, last: network + ((1n << h) - 1n), prefixLength: bits - hostBits };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.network)}/${c.prefixLength}`;
}
