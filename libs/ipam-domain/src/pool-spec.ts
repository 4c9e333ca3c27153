/**
 * The IPPool object (semantics sections 1 and 2): parsing the wire object into a pool definition with
 * bigint ranges, and the canonical spec that is stored in events and returned by queries.
 */
import {
  AddressSyntaxError,
  bitsOf,
  Cidr,
  Family,
  familyOf,
  formatAddress,
  formatMask,
  parseAddress,
  parseCidr,
  V4_BASE,
  v6Parts,
} from './address.js';
import { IpamError, reject } from './errors.js';

export const API_VERSIONS = [
  'loadbalancer.harvesterhci.io/v1beta1',
  'networking.harvesterhci.io/v1beta1',
] as const;
export const CANONICAL_API_VERSION = API_VERSIONS[0];

/** One range as written on the wire. */
export interface RangeSpec {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  /** addresses never handed out: addresses, `a-b` ranges or CIDRs inside the subnet (absent when none) */
  exclude?: string[];
}

/** A scope tuple; `""` is a literal value, `"*"` the wildcard. */
export interface ScopeTuple {
  project: string;
  namespace: string;
  guestCluster: string;
}

/** The canonical spec: scope always a list of full tuples, `cluster` spelled `guestCluster`. */
export interface PoolSpec {
  description?: string;
  ranges: RangeSpec[];
  selector: {
    priority: number;
    network?: string;
    scope: ScopeTuple[];
  };
  /** present only when false: selection never picks the pool (an explicit ipPool or spec.ip still does) */
  autoAssign?: false;
}

/** The IPPool object as it may arrive (doc-page shorthands included). */
export interface IPPoolInput {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; [key: string]: unknown };
  spec?: {
    description?: unknown;
    ranges?: unknown;
    selector?: { priority?: unknown; network?: unknown; scope?: unknown; [key: string]: unknown };
    autoAssign?: unknown;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A range with its allocatable bounds worked out (section 2). */
export interface RangeDef {
  /** index in spec order */
  index: number;
  cidr: Cidr;
  start: bigint;
  end: bigint;
  /** the gateway reported with each allocation; null for /32 and /128 */
  gateway: bigint | null;
  /** allocatable addresses: [start, end] minus the gateway and the excluded addresses */
  total: bigint;
  /**
   * the excluded addresses inside [start, end] as merged intervals in address order, flat: start0,
   * end0, start1, end1, ... (empty when the range excludes nothing)
   */
  excluded: bigint[];
  /** the text every allocation from this range reports */
  maskText: string;
  gatewayText: string | null;
  /** IPv4 ranges: start and end as 32-bit values (the fold's bigint-free path); -1 for IPv6 */
  v4Start: number;
  v4End: number;
  /** IPv6 ranges: the start as V6_PARTS holds an address (the fold's bigint-free path); -1 for IPv4 */
  v6High: number;
  v6Middle: number;
  v6Low: number;
  /** IPv6 ranges: end - start as a number (rounded when past 2^53); -1 for IPv4 */
  v6Last: number;
}

export interface PoolDefinition {
  name: string;
  spec: PoolSpec;
  ranges: RangeDef[];
  priority: number;
  network: string;
  scope: ScopeTuple[];
  global: boolean;
  total: bigint;
  /** false: selection never picks the pool (spec.autoAssign) */
  autoAssign: boolean;
  /** the families of its ranges: FAMILY_BIT[4] | FAMILY_BIT[6] */
  families: number;
}

/** A family as a bit of PoolDefinition.families. */
export const FAMILY_BIT: Readonly<Record<Family, number>> = { 4: 1, 6: 2 };

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_PRIORITY = 2 ** 31 - 1;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validatePoolName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    reject('InvalidEvent', 'metadata.name is required: give the pool a name such as "default-ip-pool".');
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    reject(
      'InvalidEvent',
      `metadata.name "${name}" is not a valid name: use lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (at most 253 characters).`,
    );
  }
  return name;
}

function scopeField(tuple: Record<string, unknown>, key: string, where: string): string {
  const v = tuple[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string')
    reject('InvalidEvent', `${where}.${key} must be a string ("*" matches anything).`);
  return v;
}

function parseScope(raw: unknown): ScopeTuple[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((t, i) => {
    const where = Array.isArray(raw) ? `spec.selector.scope[${i}]` : 'spec.selector.scope';
    if (!isObject(t))
      reject('InvalidEvent', `${where} must be an object with project, namespace and guestCluster.`);
    const guestCluster = scopeField(t, 'guestCluster', where);
    const cluster = scopeField(t, 'cluster', where);
    if (t.guestCluster !== undefined && t.cluster !== undefined && guestCluster !== cluster) {
      reject(
        'InvalidEvent',
        `${where} gives both guestCluster and cluster with different values; give one of them.`,
      );
    }
    return {
      project: scopeField(t, 'project', where),
      namespace: scopeField(t, 'namespace', where),
      guestCluster: t.guestCluster !== undefined ? guestCluster : cluster,
    };
  });
}

function optionalString(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') reject('InvalidEvent', `${where}.${key} must be a string.`);
  return v;
}

function parseAddressIn(text: string, what: string, where: string): bigint {
  try {
    return parseAddress(text);
  } catch (e) {
    if (e instanceof AddressSyntaxError) reject('InvalidRange', `${where}.${what}: ${e.message}.`);
    throw e;
  }
}

/**
 * A range's `exclude` entries (section 2): an address, `a-b` (both ends included) or a CIDR, each of
 * the subnet's family and inside it; the first bad entry is an InvalidRange naming it. The texts are
 * kept as written (the canonical spec), the intervals are what they take away.
 */
function parseExclude(
  raw: unknown,
  cidr: Cidr,
  subnet: string,
  where: string,
): { texts: string[]; intervals: Array<[bigint, bigint]> } {
  if (raw === undefined || raw === null) return { texts: [], intervals: [] };
  if (!Array.isArray(raw)) {
    reject('InvalidEvent', `${where}.exclude must be a list of addresses, a-b ranges or CIDRs.`);
  }
  const texts: string[] = [];
  const intervals: Array<[bigint, bigint]> = [];
  raw.forEach((entry: unknown, j: number) => {
    const at = `${where}.exclude[${j}]`;
    if (typeof entry !== 'string' || entry === '') {
      reject('InvalidEvent', `${at} must be an address, an a-b range or a CIDR, as a string.`);
    }
    let first: bigint;
    let last: bigint;
    try {
      if (entry.includes('/')) {
        const c = parseCidr(entry);
        first = c.network;
        last = c.last;
      } else if (entry.includes('-')) {
        const [a, b, ...rest] = entry.split('-');
        if (rest.length > 0) throw new AddressSyntaxError(`"${entry}" is not an a-b range`);
        first = parseAddress(a.trim());
        last = parseAddress(b.trim());
      } else {
        first = parseAddress(entry);
        last = first;
      }
    } catch (e) {
      if (e instanceof AddressSyntaxError) reject('InvalidRange', `${at}: ${e.message}.`);
      throw e;
    }
    if (familyOf(first) !== cidr.family || familyOf(last) !== cidr.family) {
      reject('InvalidRange', `${at} "${entry}" is not IPv${cidr.family} like its subnet ${subnet}.`);
    }
    if (first > last) reject('InvalidRange', `${at} "${entry}" ends before it starts; swap its ends.`);
    if (first < cidr.network || last > cidr.last) {
      reject('InvalidRange', `${at} "${entry}" is not inside the subnet ${subnet}.`);
    }
    texts.push(entry);
    intervals.push([first, last]);
  });
  return { texts, intervals };
}

/** The intervals' parts inside [start, end], sorted and merged, flat (start0, end0, start1, ...). */
function clipAndMerge(intervals: Array<[bigint, bigint]>, start: bigint, end: bigint): bigint[] {
  const clipped = intervals
    .map(([a, b]): [bigint, bigint] => [a < start ? start : a, b > end ? end : b])
    .filter(([a, b]) => a <= b)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: bigint[] = [];
  for (const [a, b] of clipped) {
    const n = out.length;
    if (n > 0 && a <= out[n - 1] + 1n) {
      if (b > out[n - 1]) out[n - 1] = b;
    } else {
      out.push(a, b);
    }
  }
  return out;
}

function excludedCount(flat: bigint[]): bigint {
  let n = 0n;
  for (let i = 0; i < flat.length; i += 2) n += flat[i + 1] - flat[i] + 1n;
  return n;
}

/** Is the key inside one of the flat intervals? (a range excludes few intervals: a scan) */
export function inIntervals(flat: readonly bigint[], key: bigint): boolean {
  for (let i = 0; i < flat.length; i += 2) if (key >= flat[i] && key <= flat[i + 1]) return true;
  return false;
}

/** Works out one range's allocatable bounds (section 2); the first failure is an InvalidRange. */
export function parseRange(raw: unknown, index: number): { spec: RangeSpec; def: RangeDef } {
  const where = `spec.ranges[${index}]`;
  if (!isObject(raw)) reject('InvalidEvent', `${where} must be an object with a subnet.`);
  const subnet = raw.subnet;
  if (typeof subnet !== 'string' || subnet.length === 0) {
    reject('InvalidRange', `${where}.subnet is required: give a CIDR such as 192.168.100.0/24.`);
  }
  const rangeStart = optionalString(raw, 'rangeStart', where);
  const rangeEnd = optionalString(raw, 'rangeEnd', where);
  const gatewayText = optionalString(raw, 'gateway', where);

  let cidr: Cidr;
  try {
    cidr = parseCidr(subnet);
  } catch (e) {
    if (e instanceof AddressSyntaxError) reject('InvalidRange', `${where}.subnet: ${e.message}.`);
    throw e;
  }
  const bits = bitsOf(cidr.family);
  const tiny = cidr.prefixLength >= bits - 1; // /31, /32, /127, /128: no network or broadcast address to avoid

  const explicit = (text: string | undefined, what: string): bigint | null => {
    if (text === undefined) return null;
    const key = parseAddressIn(text, what, where);
    if (familyOf(key) !== cidr.family) {
      reject(
        'InvalidRange',
        `${where}.${what} ${text} is not an IPv${cidr.family} address like its subnet ${subnet}.`,
      );
    }
    if (key < cidr.network || key > cidr.last) {
      reject('InvalidRange', `${where}.${what} ${text} is outside the subnet ${subnet}.`);
    }
    if (!tiny && key === cidr.network) {
      reject(
        'InvalidRange',
        `${where}.${what} ${text} is the network address of ${subnet}; it cannot be used.`,
      );
    }
    if (!tiny && cidr.family === 4 && key === cidr.last) {
      reject(
        'InvalidRange',
        `${where}.${what} ${text} is the broadcast address of ${subnet}; it cannot be used.`,
      );
    }
    return key;
  };

  const startKey = explicit(rangeStart, 'rangeStart');
  const endKey = explicit(rangeEnd, 'rangeEnd');
  const gatewayKey = explicit(gatewayText, 'gateway');

  let defStart: bigint;
  let defEnd: bigint;
  let defGateway: bigint | null;
  if (cidr.prefixLength === bits) {
    defStart = cidr.network;
    defEnd = cidr.network;
    defGateway = null;
  } else if (cidr.prefixLength === bits - 1) {
    defStart = cidr.network;
    defEnd = cidr.last;
    defGateway = cidr.network + 1n;
  } else {
    defStart = cidr.network + 1n;
    defEnd = cidr.family === 4 ? cidr.last - 1n : cidr.last;
    defGateway = cidr.network + 1n;
  }
  const start = startKey ?? defStart;
  const end = endKey ?? defEnd;
  const gateway = gatewayKey ?? defGateway;
  if (start > end) {
    reject(
      'InvalidRange',
      `${where}: rangeStart ${rangeStart ?? '(default)'} is after rangeEnd ${rangeEnd ?? '(default)'}; swap them.`,
    );
  }
  const exclude = parseExclude(raw.exclude, cidr, subnet, where);
  const excluded = clipAndMerge(exclude.intervals, start, end);
  const gatewayInside = gateway !== null && gateway >= start && gateway <= end;
  const total =
    end - start + 1n - excludedCount(excluded) - (gatewayInside && !inIntervals(excluded, gateway) ? 1n : 0n);

  const spec: RangeSpec = { subnet };
  if (rangeStart !== undefined) spec.rangeStart = rangeStart;
  if (rangeEnd !== undefined) spec.rangeEnd = rangeEnd;
  if (gatewayText !== undefined) spec.gateway = gatewayText;
  if (exclude.texts.length > 0) spec.exclude = exclude.texts;
  const maskText = formatMask(cidr.family, cidr.prefixLength);
  const reportedGateway = gateway === null ? null : formatAddress(gateway);
  const v4 = cidr.family === 4;
  const v4Start = v4 ? Number(start - V4_BASE) : -1;
  const v4End = v4 ? Number(end - V4_BASE) : -1;
  const v6 = v4 ? null : v6Parts(start);
  return {
    spec,
    def: {
      index,
      cidr,
      start,
      end,
      gateway,
      total,
      excluded,
      maskText,
      gatewayText: reportedGateway,
      v4Start,
      v4End,
      v6High: v6 ? v6.high : -1,
      v6Middle: v6 ? v6.middle : -1,
      v6Low: v6 ? v6.low : -1,
      v6Last: v4 ? -1 : Number(end - start),
    },
  };
}

/**
 * Parses an IPPool wire object: shape (InvalidEvent), then ranges (InvalidRange, rules 1 and 2 of
 * section 6). The checks that need other pools are in pool.validate.ts. Fields it does not read are
 * passed over at every level (section 9; pool.unknown-fields.ts names them).
 */
export function parsePool(input: unknown): PoolDefinition {
  if (!isObject(input)) reject('InvalidEvent', 'The body must be an IPPool object with metadata and spec.');
  const pool = input as IPPoolInput;
  if (pool.apiVersion !== undefined && !(API_VERSIONS as readonly unknown[]).includes(pool.apiVersion)) {
    reject(
      'InvalidEvent',
      `apiVersion "${String(pool.apiVersion)}" is not supported; use ${API_VERSIONS.join(' or ')}.`,
    );
  }
  if (pool.kind !== undefined && pool.kind !== 'IPPool') {
    reject('InvalidEvent', `kind "${String(pool.kind)}" is not supported; this subject takes kind IPPool.`);
  }
  if (!isObject(pool.metadata))
    reject('InvalidEvent', 'metadata is required, with the pool name in metadata.name.');
  const name = validatePoolName(pool.metadata.name);
  if (!isObject(pool.spec)) reject('InvalidEvent', 'spec is required, with spec.ranges.');
  const rawSpec = pool.spec;
  const description = optionalString(rawSpec, 'description', 'spec');
  const selector = rawSpec.selector ?? {};
  if (!isObject(selector)) reject('InvalidEvent', 'spec.selector must be an object.');
  const priorityRaw = selector.priority ?? 0;
  if (
    typeof priorityRaw !== 'number' ||
    !Number.isInteger(priorityRaw) ||
    priorityRaw < 0 ||
    priorityRaw > MAX_PRIORITY
  ) {
    reject(
      'InvalidEvent',
      `spec.selector.priority must be a whole number from 0 to ${MAX_PRIORITY}; larger wins.`,
    );
  }
  const network = optionalString(selector, 'network', 'spec.selector') ?? '';
  const autoAssign = rawSpec.autoAssign ?? true;
  if (typeof autoAssign !== 'boolean') {
    reject('InvalidEvent', 'spec.autoAssign must be true or false (false: never chosen by selection).');
  }
  const scope = parseScope(selector.scope);

  const rawRanges = rawSpec.ranges;
  if (rawRanges !== undefined && rawRanges !== null && !Array.isArray(rawRanges)) {
    reject('InvalidEvent', 'spec.ranges must be a list of ranges.');
  }
  if (!Array.isArray(rawRanges) || rawRanges.length === 0) {
    reject(
      'InvalidRange',
      'spec.ranges is empty: give at least one range, for example {subnet: 192.168.100.0/24}.',
    );
  }
  const parsed = rawRanges.map((r, i) => parseRange(r, i));
  const ranges = parsed.map((p) => p.def);
  const spec: PoolSpec = {
    ...(description !== undefined ? { description } : {}),
    ranges: parsed.map((p) => p.spec),
    selector: { priority: priorityRaw, ...(network !== '' ? { network } : {}), scope },
    // only when false: a pool without it reads, and is written, as before
    ...(autoAssign ? {} : { autoAssign: false as const }),
  };
  return {
    name,
    spec,
    ranges,
    priority: priorityRaw,
    network,
    scope,
    global: isGlobalScope(scope),
    total: ranges.reduce((sum, r) => sum + r.total, 0n),
    autoAssign,
    families: ranges.reduce((bits, r) => bits | FAMILY_BIT[r.cidr.family], 0),
  };
}

export function isGlobalScope(scope: ScopeTuple[]): boolean {
  return (
    scope.length === 1 &&
    scope[0].project === '*' &&
    scope[0].namespace === '*' &&
    scope[0].guestCluster === '*'
  );
}

/** Rebuilds a definition from a canonical spec stored in an event; null if this build cannot read it. */
export function definitionFromSpec(name: string, spec: PoolSpec): PoolDefinition | null {
  try {
    return parsePool({ metadata: { name }, spec });
  } catch (e) {
    if (e instanceof IpamError) return null;
    throw e;
  }
}

/** A stable text form of a spec, for "is this the identical spec" comparisons. */
export function canonicalSpecKey(spec: PoolSpec): string {
  return JSON.stringify({
    description: spec.description ?? '',
    // exclusions and autoAssign only when used: the key of every other spec stays as it was
    ranges: spec.ranges.map((r) => [
      r.subnet,
      r.rangeStart ?? '',
      r.rangeEnd ?? '',
      r.gateway ?? '',
      ...(r.exclude !== undefined && r.exclude.length > 0 ? [r.exclude] : []),
    ]),
    selector: [
      spec.selector.priority,
      spec.selector.network ?? '',
      spec.selector.scope.map((t) => [t.project, t.namespace, t.guestCluster]),
    ],
    ...(spec.autoAssign === false ? { autoAssign: false } : {}),
  });
}

/**
 * Do both definitions have the same allocatable addresses, range by range (start, end, gateway and
 * exclusions)? Then an update changes only scope, priority, description or autoAssign: the fold keeps the pool's tables and
 * free sets, and every allocation stays allocatable (rule 7).
 */
export function sameAddresses(a: PoolDefinition, b: PoolDefinition): boolean {
  if (a.ranges.length !== b.ranges.length) return false;
  for (let i = 0; i < a.ranges.length; i++) {
    const x = a.ranges[i];
    const y = b.ranges[i];
    if (x.start !== y.start || x.end !== y.end || x.gateway !== y.gateway) return false;
    if (x.excluded.length !== y.excluded.length) return false;
    for (let k = 0; k < x.excluded.length; k++) if (x.excluded[k] !== y.excluded[k]) return false;
  }
  return true;
}
