/**
 * A brute-force reference model of semantics.md sections 2-7, for the property tests: every range is an
 * array of all its addresses (no interval sets, no bigint keys), pools are plain objects, and every rule
 * is written the most direct way, from the spec text rather than from the implementation.
 *
 * Addresses live in a tiny universe: IPv4 10.0.0.0-10.0.0.63 and IPv6 fd00::0-fd00::f. An address is
 * an ordinal: the IPv4 last octet, or 1000 + the IPv6 last group.
 */

export type Family = 4 | 6;

/** A range as the generator describes it, in host numbers of the universe. */
export interface RangeTemplate {
  family: Family;
  net: number;
  prefix: number;
  rangeStart?: number;
  rangeEnd?: number;
  gateway?: number;
}

export const TEMPLATES: RangeTemplate[] = [
  { family: 4, net: 0, prefix: 28 }, // 0: .1-.14 gw .1 -> 13
  { family: 4, net: 16, prefix: 29 }, // 1: .17-.22 gw .17 -> 5
  { family: 4, net: 24, prefix: 29, rangeStart: 26, rangeEnd: 30, gateway: 28 }, // 2: .26-.30 minus .28 -> 4
  { family: 4, net: 32, prefix: 28, rangeStart: 40 }, // 3: .40-.46, gw .33 outside -> 7
  { family: 4, net: 32, prefix: 28, rangeEnd: 39 }, // 4: .33-.39 gw .33 -> 6 (adjacent to 3)
  { family: 4, net: 8, prefix: 29 }, // 5: .9-.14 gw .9 -> 5 (overlaps 0)
  { family: 6, net: 0, prefix: 125 }, // 6: ::1-::7 gw ::1 -> 6
  { family: 4, net: 48, prefix: 31 }, // 7: .48 only (gw .49)
  { family: 4, net: 50, prefix: 32 }, // 8: .50 only, no gateway
  { family: 4, net: 16, prefix: 28 }, // 9: .17-.30 gw .17 -> 13 (overlaps 1 and 2)
  { family: 6, net: 8, prefix: 125, gateway: 12 }, // 10: ::9-::f minus ::c -> 6
  { family: 4, net: 24, prefix: 29, rangeStart: 26, rangeEnd: 30 }, // 11: like 2, gateway .25 outside -> 5
];

export function ordinal(family: Family, host: number): number {
  return family === 4 ? host : 1000 + host;
}

export function addressText(ord: number): string {
  if (ord < 1000) return `10.0.0.${ord}`;
  const host = ord - 1000;
  return host === 0 ? 'fd00::' : `fd00::${host.toString(16)}`;
}

/** Every address text of the universe (what spec.ip and force-release pick from). */
export const UNIVERSE: string[] = [
  ...Array.from({ length: 64 }, (_, i) => addressText(i)),
  ...Array.from({ length: 16 }, (_, i) => addressText(1000 + i)),
];

export function templateWire(t: RangeTemplate): Record<string, string> {
  const text = (host: number) => addressText(ordinal(t.family, host));
  const out: Record<string, string> = { subnet: `${text(t.net)}/${t.prefix}` };
  if (t.rangeStart !== undefined) out.rangeStart = text(t.rangeStart);
  if (t.rangeEnd !== undefined) out.rangeEnd = text(t.rangeEnd);
  if (t.gateway !== undefined) out.gateway = text(t.gateway);
  return out;
}

export interface ModelAddress {
  ord: number;
  gateway: boolean;
  /** listed in the range's exclude (never allocated, not counted) */
  excluded: boolean;
}

export interface ModelRange {
  /** every address from rangeStart to rangeEnd, ascending, the gateway marked */
  addresses: ModelAddress[];
  gatewayText: string | null;
}

/** The ordinal of an address text of the universe (IPv4 10.0.0.x, IPv6 fd00::x), or null. */
export function ordOf(text: string): number | null {
  const v4 = /^10\.0\.0\.(\d{1,3})$/.exec(text);
  if (v4) return Number(v4[1]) < 256 ? Number(v4[1]) : null;
  const v6 = /^fd00::([0-9a-f]{0,4})$/.exec(text);
  if (v6) return 1000 + (v6[1] === '' ? 0 : parseInt(v6[1], 16));
  return null;
}

/**
 * An exclude entry (section 2) as the ordinals it covers, or null when it is not valid for the
 * template: an address, `a-b` or a CIDR, of the template's family and inside its subnet.
 */
export function excludeOrds(t: RangeTemplate, entry: string): number[] | null {
  const bits = t.family === 4 ? 32 : 128;
  const lo = ordinal(t.family, t.net);
  const hi = lo + 2 ** (bits - t.prefix) - 1;
  let a: number | null;
  let b: number | null;
  if (entry.includes('/')) {
    const [base, p] = entry.split('/');
    a = ordOf(base);
    const size = 2 ** ((a !== null && a >= 1000 ? 128 : 32) - Number(p));
    if (a !== null) a = (a >= 1000 ? 1000 : 0) + Math.floor((a % 1000) / size) * size;
    b = a === null ? null : a + size - 1;
  } else if (entry.includes('-')) {
    [a, b] = entry.split('-').map(ordOf);
  } else {
    a = b = ordOf(entry);
  }
  if (a === null || b === null || a > b || a < lo || b > hi) return null;
  const out: number[] = [];
  for (let x = a; x <= b; x++) out.push(x);
  return out;
}

/** Section 2, straight from the text. */
export function modelRange(t: RangeTemplate, exclude: string[] = []): ModelRange {
  const bits = t.family === 4 ? 32 : 128;
  const size = 2 ** (bits - t.prefix);
  let start: number;
  let end: number;
  let gateway: number | null;
  if (t.prefix === bits) {
    start = t.net;
    end = t.net;
    gateway = null;
  } else if (t.prefix === bits - 1) {
    start = t.net;
    end = t.net + 1;
    gateway = t.net + 1;
  } else {
    start = t.net + 1;
    end = t.family === 4 ? t.net + size - 2 : t.net + size - 1;
    gateway = t.net + 1;
  }
  if (t.rangeStart !== undefined) start = t.rangeStart;
  if (t.rangeEnd !== undefined) end = t.rangeEnd;
  if (t.gateway !== undefined) gateway = t.gateway;
  const excluded = new Set(exclude.flatMap((e) => excludeOrds(t, e) ?? []));
  const addresses: ModelAddress[] = [];
  for (let h = start; h <= end; h++) {
    const ord = ordinal(t.family, h);
    addresses.push({ ord, gateway: h === gateway, excluded: excluded.has(ord) });
  }
  return { addresses, gatewayText: gateway === null ? null : addressText(ordinal(t.family, gateway)) };
}

export interface Tuple {
  project: string;
  namespace: string;
  guestCluster: string;
}

export interface ModelPoolSpec {
  ranges: number[]; // template indexes, in spec order
  priority: number;
  network: string;
  scope: Tuple[];
  /** exclude entries per range (by position in `ranges`), when any */
  exclude?: Array<string[] | undefined>;
  /** false: never chosen by selection; undefined or true: chosen as usual */
  autoAssign?: boolean;
}

export function poolWire(name: string, spec: ModelPoolSpec) {
  return {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name },
    spec: {
      ranges: spec.ranges.map((i, k) => {
        const exclude = spec.exclude?.[k];
        return { ...templateWire(TEMPLATES[i]), ...(exclude !== undefined ? { exclude } : {}) };
      }),
      selector: {
        priority: spec.priority,
        ...(spec.network !== '' ? { network: spec.network } : {}),
        scope: spec.scope,
      },
      ...(spec.autoAssign !== undefined ? { autoAssign: spec.autoAssign } : {}),
    },
  };
}

/** The ranges of a spec, exclusions applied. */
function specRanges(spec: ModelPoolSpec): ModelRange[] {
  return spec.ranges.map((i, k) => modelRange(TEMPLATES[i], spec.exclude?.[k] ?? []));
}

/** Is every exclude entry of the spec valid for its range (else the pool is an InvalidRange)? */
function excludesValid(spec: ModelPoolSpec): boolean {
  return spec.ranges.every((i, k) =>
    (spec.exclude?.[k] ?? []).every((e) => excludeOrds(TEMPLATES[i], e) !== null),
  );
}

/** The spec as the canonical form compares it: autoAssign true is the default, empty exclude none. */
function specKey(spec: ModelPoolSpec): string {
  return JSON.stringify([
    spec.ranges,
    spec.priority,
    spec.network,
    spec.scope,
    spec.ranges.map((_, k) => spec.exclude?.[k] ?? []),
    spec.autoAssign !== false,
  ]);
}

interface ModelPool {
  name: string;
  spec: ModelPoolSpec;
  ranges: ModelRange[];
  global: boolean;
  allocated: Map<number, string>;
  history: Map<number, { lb: string; seq: number }>;
  last: number | null;
}

export interface LbRequest {
  key: string;
  network: string;
  project: string;
  namespace: string; // the requirement's namespace (annotation or the LB's own)
  guestCluster: string;
  cluster: boolean;
  ipPool: string | null;
  ip: string | null;
  sharingKey?: string;
  /** spec.ipFamilies, in order */
  families?: Family[];
}

export interface ModelAddressOut {
  ipPool: string;
  ip: string;
  gateway: string | null;
  fromHistory: boolean;
}

/** What the model expects a command to produce: the parts of the outcome event that matter. */
export type Expected =
  | { type: 'PoolAccepted'; change: 'created' | 'updated' | 'deleted' }
  | { type: 'PoolRejected'; code: string }
  | {
      type: 'IPAllocated';
      ipPool: string;
      ip: string;
      gateway: string | null;
      fromHistory: boolean;
      addresses?: ModelAddressOut[];
      sharingKey?: string;
      sharedWith?: string[];
    }
  | { type: 'LBRejected'; code: string }
  | {
      type: 'IPReleased';
      loadBalancer: string;
      ipPool: string;
      ip: string;
      addresses?: Array<{ ip: string; ipPool: string }>;
      stillSharedBy?: string[];
    }
  | { type: 'AddressRejected'; code: string };

const field = (p: string, r: string) => p === '*' || r === '*' || p === r;
const strict = (a: Tuple, b: Tuple) =>
  field(a.project, b.project) && field(a.namespace, b.namespace) && field(a.guestCluster, b.guestCluster);
const loose = (p: Tuple, r: Tuple) =>
  (p.project === '' || field(p.project, r.project)) &&
  field(p.namespace, r.namespace) &&
  (p.guestCluster === '' || field(p.guestCluster, r.guestCluster));

function isGlobal(scope: Tuple[]): boolean {
  return (
    scope.length === 1 &&
    scope[0].project === '*' &&
    scope[0].namespace === '*' &&
    scope[0].guestCluster === '*'
  );
}

/** An address that may be handed out: neither its range's gateway nor excluded. */
function usable(a: ModelAddress): boolean {
  return !a.gateway && !a.excluded;
}

function rangeOf(pool: { ranges: ModelRange[] }, ord: number): ModelAddress | undefined {
  for (const r of pool.ranges) {
    const a = r.addresses.find((x) => x.ord === ord);
    if (a) return a;
  }
  return undefined;
}

function gatewayFor(pool: ModelPool, ord: number): string | null {
  return pool.ranges.find((r) => r.addresses.some((a) => a.ord === ord))!.gatewayText;
}

function spans(ranges: ModelRange[]): Array<Set<number>> {
  return ranges.map((r) => new Set(r.addresses.map((a) => a.ord)));
}

function intersect(a: Set<number>, b: Set<number>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/** What a load balancer holds: its addresses in order, and its sharing group's id (or null). */
interface ModelHolding {
  addrs: Array<{ pool: string; ord: number }>;
  group: string | null;
}

export class ReferenceModel {
  private pools = new Map<string, ModelPool>();
  private holdings = new Map<string, ModelHolding>();
  /** sharing groups by "namespace/key": the holders, oldest first */
  private groups = new Map<string, { key: string; holders: string[] }>();

  // -------------------------------------------------------------------------------------------- pools

  private validate(name: string, spec: ModelPoolSpec): string | null {
    const ranges = specRanges(spec);
    const mine = spans(ranges);
    for (let i = 0; i < mine.length; i++)
      for (let j = i + 1; j < mine.length; j++) if (intersect(mine[i], mine[j])) return 'RangeOverlap';
    const others = [...this.pools.values()].filter((p) => p.name !== name);
    for (const o of others)
      for (const theirs of spans(o.ranges))
        for (const m of mine) if (intersect(m, theirs)) return 'RangeOverlap';
    if (isGlobal(spec.scope)) {
      if (others.some((o) => o.global)) return 'GlobalPoolExists';
    } else {
      for (let i = 0; i < spec.scope.length; i++) {
        for (let j = i + 1; j < spec.scope.length; j++)
          if (strict(spec.scope[i], spec.scope[j])) return 'ScopeOverlap';
      }
      if (spec.priority !== 0) {
        if (others.some((o) => !o.global && o.spec.priority === spec.priority)) return 'DuplicatePriority';
      } else {
        for (const o of others) {
          if (o.global || o.spec.priority !== 0 || o.spec.network !== spec.network) continue;
          if (spec.scope.some((t) => o.spec.scope.some((u) => strict(t, u)))) return 'ScopeOverlap';
        }
      }
    }
    return null;
  }

  createPool(name: string, spec: ModelPoolSpec): Expected {
    if (!excludesValid(spec)) return { type: 'PoolRejected', code: 'InvalidRange' };
    const existing = this.pools.get(name);
    if (existing) {
      return specKey(existing.spec) === specKey(spec)
        ? { type: 'PoolAccepted', change: 'created' }
        : { type: 'PoolRejected', code: 'PoolExists' };
    }
    const code = this.validate(name, spec);
    if (code) return { type: 'PoolRejected', code };
    this.pools.set(name, {
      name,
      spec,
      ranges: specRanges(spec),
      global: isGlobal(spec.scope),
      allocated: new Map(),
      history: new Map(),
      last: null,
    });
    return { type: 'PoolAccepted', change: 'created' };
  }

  updatePool(name: string, spec: ModelPoolSpec): Expected {
    if (!excludesValid(spec)) return { type: 'PoolRejected', code: 'InvalidRange' };
    const pool = this.pools.get(name);
    if (!pool) return { type: 'PoolRejected', code: 'UnknownPool' };
    const code = this.validate(name, spec);
    if (code) return { type: 'PoolRejected', code };
    const ranges = specRanges(spec);
    // in address order (IPv6 before IPv4, as the service orders keys): the first address that fails
    const held = [...pool.allocated.keys()].sort(
      (x, y) => (x >= 1000 ? x - 2000 : x) - (y >= 1000 ? y - 2000 : y),
    );
    for (const ord of held) {
      const a = rangeOf({ ranges }, ord);
      if (!a || a.gateway) return { type: 'PoolRejected', code: 'AllocatedOutOfRange' };
      if (a.excluded) return { type: 'PoolRejected', code: 'ExcludesAllocated' };
    }
    pool.spec = spec;
    pool.ranges = ranges;
    pool.global = isGlobal(spec.scope);
    for (const ord of [...pool.history.keys()]) if (!rangeOf(pool, ord)) pool.history.delete(ord);
    return { type: 'PoolAccepted', change: 'updated' };
  }

  deletePool(name: string): Expected {
    const pool = this.pools.get(name);
    if (!pool) return { type: 'PoolRejected', code: 'UnknownPool' };
    if (pool.allocated.size > 0) return { type: 'PoolRejected', code: 'PoolInUse' };
    this.pools.delete(name);
    return { type: 'PoolAccepted', change: 'deleted' };
  }

  // ----------------------------------------------------------------------------------- load balancers

  private best(candidates: ModelPool[]): ModelPool | null {
    const sorted = [...candidates].sort(
      (a, b) => b.spec.priority - a.spec.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    return sorted[0] ?? null;
  }

  /** Does the pool have a range of the family (0: any)? */
  private hasFamily(p: ModelPool, family: Family | 0): boolean {
    return family === 0 || p.spec.ranges.some((i) => TEMPLATES[i].family === family);
  }

  private select(r: LbRequest, family: Family | 0): ModelPool | null {
    const req: Tuple = { project: r.project, namespace: r.namespace, guestCluster: r.guestCluster };
    const all = [...this.pools.values()].filter(
      (p) => p.spec.autoAssign !== false && this.hasFamily(p, family),
    );
    const matching = (m: (p: Tuple, r: Tuple) => boolean) =>
      all.filter((p) => !p.global && p.spec.network === r.network && p.spec.scope.some((t) => m(t, req)));
    const s = this.best(matching(strict));
    if (s) return s;
    const g = [...this.pools.values()].find((p) => p.global);
    if (g && all.includes(g) && (g.spec.network === '' || g.spec.network === r.network)) return g;
    if (r.cluster) return this.best(matching(loose));
    return null;
  }

  /** Could selection give r this pool, priorities aside (a later sharer's check)? */
  private serves(p: ModelPool, r: LbRequest): boolean {
    if (p.spec.autoAssign === false) return false;
    if (p.global) return p.spec.network === '' || p.spec.network === r.network;
    const req: Tuple = { project: r.project, namespace: r.namespace, guestCluster: r.guestCluster };
    return (
      p.spec.network === r.network && p.spec.scope.some((t) => strict(t, req) || (r.cluster && loose(t, req)))
    );
  }

  private out(pool: ModelPool, ord: number, fromHistory: boolean): ModelAddressOut {
    return { ipPool: pool.name, ip: addressText(ord), gateway: gatewayFor(pool, ord), fromHistory };
  }

  private allocated(
    addrs: ModelAddressOut[],
    sharingKey: string | undefined,
    sharedWith: string[],
  ): Expected {
    return {
      type: 'IPAllocated',
      ...addrs[0],
      ...(addrs.length > 1 ? { addresses: addrs } : {}),
      ...(sharingKey !== undefined ? { sharingKey } : {}),
      ...(sharedWith.length > 0 ? { sharedWith } : {}),
    };
  }

  /** One family's pick (0: any), from the state as it is: a pool and an address, or a rejection code. */
  private pick(
    r: LbRequest,
    family: Family | 0,
  ): { pool: ModelPool; ord: number; history: boolean } | string {
    const famOf = (ord: number): Family => (ord >= 1000 ? 6 : 4);
    const wanted = r.ip === null ? null : UNIVERSE_ORD.get(r.ip)!;
    const ip = wanted !== null && (family === 0 || famOf(wanted) === family) ? wanted : null;
    let pool: ModelPool | null;
    if (r.ipPool !== null) {
      pool = this.pools.get(r.ipPool) ?? null;
      if (!pool) return 'UnknownPool';
      if (!this.hasFamily(pool, family)) return 'FamilyUnavailable';
    } else {
      // an address of a disabled pool names that pool
      const named = [...this.pools.values()].find(
        (p) => p.spec.autoAssign === false && ip !== null && rangeOf(p, ip),
      );
      pool = named ?? this.select(r, family);
      if (!pool) return family === 0 ? 'NoMatchingPool' : 'FamilyUnavailable';
    }
    if (ip !== null) {
      const a = rangeOf(pool, ip);
      if (!a || !usable(a) || pool.allocated.has(ip)) return 'AddressUnavailable';
      return { pool, ord: ip, history: false };
    }
    // history: the most recent usable entry naming this load balancer, of the family
    let best: { ord: number; seq: number } | null = null;
    for (const [ord, h] of pool.history) {
      if (h.lb !== r.key || (family !== 0 && famOf(ord) !== family)) continue;
      const a = rangeOf(pool, ord);
      if (!a || !usable(a) || pool.allocated.has(ord)) continue;
      if (!best || h.seq > best.seq) best = { ord, seq: h.seq };
    }
    if (best) return { pool, ord: best.ord, history: true };
    // next-fit over the cycle of every address, ranges in spec order, other families passed over
    const cycle = pool.ranges.flatMap((rg) => rg.addresses);
    const at = pool.last === null ? -1 : cycle.findIndex((a) => a.ord === pool.last);
    for (let k = 1; k <= cycle.length; k++) {
      const a = at < 0 ? cycle[k - 1] : cycle[(at + k) % cycle.length];
      if (family !== 0 && famOf(a.ord) !== family) continue;
      if (usable(a) && !pool.allocated.has(a.ord)) return { pool, ord: a.ord, history: false };
    }
    return family === 0 ? 'PoolExhausted' : 'FamilyUnavailable';
  }

  private heldOut(h: ModelHolding): ModelAddressOut[] {
    return h.addrs.map((a) => this.out(this.pools.get(a.pool)!, a.ord, false));
  }

  request(r: LbRequest): Expected {
    const held = this.holdings.get(r.key);
    if (held) {
      const g = held.group === null ? undefined : this.groups.get(held.group)!;
      return this.allocated(this.heldOut(held), g?.key, g ? g.holders.filter((k) => k !== r.key) : []);
    }
    const famOf = (ord: number): Family => (ord >= 1000 ? 6 : 4);
    const wanted = r.ip === null ? null : UNIVERSE_ORD.get(r.ip)!;
    if (wanted !== null && r.families && !r.families.includes(famOf(wanted)))
      return { type: 'LBRejected', code: 'AddressUnavailable' };
    const ns = r.key.split('/')[0];
    if (r.sharingKey !== undefined) {
      const id = `${ns}/${r.sharingKey}`;
      const g = this.groups.get(id);
      if (g) {
        const first = this.holdings.get(g.holders[0])!;
        const fams = first.addrs.map((a) => famOf(a.ord));
        if (r.families && (r.families.length !== fams.length || !r.families.every((f) => fams.includes(f))))
          return { type: 'LBRejected', code: 'SharingKeyConflict' };
        if (r.ipPool !== null) {
          if (!this.pools.has(r.ipPool)) return { type: 'LBRejected', code: 'UnknownPool' };
          if (first.addrs.some((a) => a.pool !== r.ipPool))
            return { type: 'LBRejected', code: 'SharingKeyConflict' };
        }
        if (wanted !== null && !first.addrs.some((a) => a.ord === wanted))
          return { type: 'LBRejected', code: 'SharingKeyConflict' };
        for (const a of first.addrs) {
          if (r.ipPool === null && wanted !== a.ord && !this.serves(this.pools.get(a.pool)!, r))
            return { type: 'LBRejected', code: 'SharingKeyConflict' };
        }
        const others = [...g.holders];
        g.holders.push(r.key);
        this.holdings.set(r.key, { addrs: first.addrs.map((a) => ({ ...a })), group: id });
        return this.allocated(this.heldOut(first), r.sharingKey, others);
      }
    }
    const picks = (r.families ?? [0 as const]).map((f) => this.pick(r, f));
    for (const p of picks) if (typeof p === 'string') return { type: 'LBRejected', code: p };
    const ok = picks as Array<{ pool: ModelPool; ord: number; history: boolean }>;
    const outs = ok.map((p) => this.out(p.pool, p.ord, p.history));
    for (const p of ok) {
      p.pool.allocated.set(p.ord, r.key);
      p.pool.history.delete(p.ord);
      p.pool.last = p.ord;
    }
    let group: string | null = null;
    if (r.sharingKey !== undefined) {
      group = `${ns}/${r.sharingKey}`;
      this.groups.set(group, { key: r.sharingKey, holders: [r.key] });
    }
    this.holdings.set(r.key, { addrs: ok.map((p) => ({ pool: p.pool.name, ord: p.ord })), group });
    return this.allocated(outs, r.sharingKey, []);
  }

  private releaseHeld(key: string, seq: number): Expected {
    const held = this.holdings.get(key)!;
    const first = held.addrs[0];
    const base = {
      type: 'IPReleased' as const,
      loadBalancer: key,
      ipPool: first.pool,
      ip: addressText(first.ord),
      ...(held.addrs.length > 1
        ? { addresses: held.addrs.map((a) => ({ ip: addressText(a.ord), ipPool: a.pool })) }
        : {}),
    };
    this.holdings.delete(key);
    const g = held.group === null ? undefined : this.groups.get(held.group)!;
    if (g && g.holders.length > 1) {
      g.holders = g.holders.filter((k) => k !== key);
      // the oldest remaining holder is the one the pool's status names
      for (const a of held.addrs) this.pools.get(a.pool)!.allocated.set(a.ord, g.holders[0]);
      return { ...base, stillSharedBy: [...g.holders] };
    }
    if (g) this.groups.delete(held.group!);
    for (const a of held.addrs) {
      const pool = this.pools.get(a.pool)!;
      pool.allocated.delete(a.ord);
      pool.history.set(a.ord, { lb: key, seq });
    }
    return base;
  }

  release(key: string, seq: number): Expected {
    if (!this.holdings.has(key)) return { type: 'LBRejected', code: 'UnknownLoadBalancer' };
    return this.releaseHeld(key, seq);
  }

  forceRelease(ip: string, ipPool: string | null, seq: number): Expected {
    if (ipPool !== null && !this.pools.has(ipPool)) return { type: 'AddressRejected', code: 'UnknownPool' };
    const ord = UNIVERSE_ORD.get(ip)!;
    for (const p of this.pools.values()) {
      if (ipPool !== null && p.name !== ipPool) continue;
      const lb = p.allocated.get(ord);
      if (lb !== undefined) return this.releaseHeld(lb, seq);
    }
    return { type: 'AddressRejected', code: 'AddressNotAllocated' };
  }

  // --------------------------------------------------------------------------------------------- view

  poolNames(): string[] {
    return [...this.pools.keys()].sort();
  }

  /** The status the implementation must report for a pool, computed by counting. */
  status(name: string) {
    const p = this.pools.get(name)!;
    const allocatable = p.ranges.flatMap((r) => r.addresses).filter(usable);
    const free = allocatable.filter((a) => !p.allocated.has(a.ord));
    // excluded addresses, IPv6 first (the service's key order), consecutive ones written a-b
    const excluded = p.ranges
      .flatMap((r) => r.addresses)
      .filter((a) => a.excluded)
      .map((a) => a.ord)
      .sort((x, y) => (x >= 1000 ? x - 2000 : x) - (y >= 1000 ? y - 2000 : y));
    const runs: Array<[number, number]> = [];
    for (const o of excluded) {
      const last = runs[runs.length - 1];
      if (last && last[1] + 1 === o && o !== 1000) last[1] = o;
      else runs.push([o, o]);
    }
    return {
      total: allocatable.length,
      available: free.length,
      lastAllocated: p.last === null ? '' : addressText(p.last),
      allocated: Object.fromEntries([...p.allocated].map(([ord, lb]) => [addressText(ord), lb])),
      allocatedHistory: Object.fromEntries([...p.history].map(([ord, h]) => [addressText(ord), h.lb])),
      ...(this.sharedView(name) !== undefined ? { shared: this.sharedView(name) } : {}),
      ...(runs.length > 0
        ? {
            excluded: runs.map(([a, b]) =>
              a === b ? addressText(a) : `${addressText(a)}-${addressText(b)}`,
            ),
          }
        : {}),
    };
  }

  /** Is this address text of this pool inside one of its ranges, not a gateway and not excluded? */
  allocatable(name: string, ip: string): boolean {
    const p = this.pools.get(name);
    const a = p ? rangeOf(p, UNIVERSE_ORD.get(ip) ?? -1) : undefined;
    return a !== undefined && usable(a);
  }

  holdingsView(): Record<string, string> {
    return Object.fromEntries(
      [...this.holdings].map(([k, h]) => [
        k,
        h.addrs.map((a) => `${a.pool} ${addressText(a.ord)}`).join(', '),
      ]),
    );
  }

  /** Every address held by more than one load balancer of a sharing group: address -> holders. */
  sharedView(name: string): Record<string, string[]> | undefined {
    const out: Record<string, string[]> = {};
    for (const g of this.groups.values()) {
      if (g.holders.length < 2) continue;
      for (const a of this.holdings.get(g.holders[0])!.addrs)
        if (a.pool === name) out[addressText(a.ord)] = [...g.holders];
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

const UNIVERSE_ORD = new Map<string, number>(
  UNIVERSE.map((t) => [
    t,
    t.startsWith('fd00') ? 1000 + (t === 'fd00::' ? 0 : parseInt(t.slice(6), 16)) : Number(t.split('.')[3]),
  ]),
);
