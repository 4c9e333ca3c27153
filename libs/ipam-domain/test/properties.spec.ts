/**
 * Property-based specifications: random sequences of pool and load-balancer commands on small pools,
 * checked step by step against the brute-force reference model (reference-model.ts) and against the
 * invariants of semantics.md, plus replay (fold of the produced events) and purity of decide.
 */
import fc from 'fast-check';
import {
  allocatedEntries,
  canonicalSpecKey,
  decide,
  evolve,
  fold,
  heldAddress,
  historyEntries,
  initialState,
  IpamCommand,
  IpamEvent,
  IpamState,
  lastAllocatedOf,
  loadBalancerView,
  poolViews,
} from '../src/index.js';
import { lb, LbOptions } from './support.js';
import {
  addressText,
  Expected,
  LbRequest,
  ModelPoolSpec,
  ordinal,
  poolWire,
  RangeTemplate,
  ReferenceModel,
  TEMPLATES,
  Tuple,
  UNIVERSE,
} from './reference-model.js';

// ---------------------------------------------------------------------------------------- generators

type GenCmd =
  | { k: 'create'; name: string; spec: ModelPoolSpec }
  | { k: 'update'; name: string; spec: ModelPoolSpec }
  | { k: 'delete'; name: string }
  | { k: 'request'; key: string; opts: LbOptions }
  | { k: 'release'; key: string }
  | { k: 'force'; ip: string; pool: string | null };

/** `arb` one time in `every`, else undefined. */
const maybe = <T>(arb: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const POOL_NAMES = ['p0', 'p1', 'p2', 'p3'];
const GLOBAL: Tuple[] = [{ project: '*', namespace: '*', guestCluster: '*' }];
const value = fc.constantFrom('', '*', 'a', 'b');
const tupleArb: fc.Arbitrary<Tuple> = fc.record({ project: value, namespace: value, guestCluster: value });
const scopeArb: fc.Arbitrary<Tuple[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(GLOBAL) },
  { weight: 1, arbitrary: fc.constant<Tuple[]>([]) },
  { weight: 7, arbitrary: fc.array(tupleArb, { minLength: 1, maxLength: 2 }) },
);

/**
 * An exclude entry for a range of the template: an address, an a-b range or a small CIDR of its
 * subnet, now and then one that is not valid there (outside the subnet, another family, reversed).
 */
function excludeEntryArb(t: RangeTemplate): fc.Arbitrary<string> {
  const bits = t.family === 4 ? 32 : 128;
  const size = 2 ** (bits - t.prefix);
  const host = fc.integer({ min: t.net, max: t.net + size - 1 });
  const text = (h: number) => addressText(ordinal(t.family, h));
  return fc.oneof(
    { weight: 4, arbitrary: host.map(text) },
    {
      weight: 3,
      arbitrary: fc.tuple(host, host).map(([a, b]) => `${text(Math.min(a, b))}-${text(Math.max(a, b))}`),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(host, fc.constantFrom(1, 2))
        .map(([h, k]) => `${text(Math.floor(h / 2 ** k) * 2 ** k)}/${bits - k}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('10.0.0.60', 'fd00::e', '10.0.0.9-10.0.0.8', '10.0.0.0/26') },
  );
}

function specArb(templates: number[], scope: fc.Arbitrary<Tuple[]>): fc.Arbitrary<ModelPoolSpec> {
  return fc
    .record({
      ranges: fc.uniqueArray(fc.constantFrom(...templates), { minLength: 1, maxLength: 3 }),
      priority: fc.constantFrom(0, 0, 1, 2),
      network: fc.constantFrom('', '', 'default/vlan1'),
      scope,
      autoAssign: fc.constantFrom<boolean | undefined>(undefined, undefined, undefined, false, true),
    })
    .chain((spec) =>
      fc
        .tuple(
          ...spec.ranges.map((i) =>
            maybe(fc.array(excludeEntryArb(TEMPLATES[i]), { minLength: 1, maxLength: 3 }), 4),
          ),
        )
        .map((exclude) => (exclude.every((e) => e === undefined) ? spec : { ...spec, exclude })),
    );
}

const ALL_TEMPLATES = TEMPLATES.map((_, i) => i);
/** Templates that never overlap one another. */
const DISJOINT_TEMPLATES = [0, 1, 2, 3, 4, 6, 7, 8, 10];
/** The same, and 11 (range 2 with its gateway outside): updates may turn a held address into a gateway. */
const UPDATE_TEMPLATES = [...DISJOINT_TEMPLATES, 11];

const lbKey = fc.constantFrom('a/lb0', 'a/lb1', 'a/lb2', 'a/lb3', 'b/lb0', 'b/lb1', 'b/lb2', 'b/lb3');

function requestArb(pools: string[]): fc.Arbitrary<GenCmd> {
  return fc
    .record({
      key: lbKey,
      network: maybe(fc.constant('default/vlan1'), 2),
      project: maybe(fc.constantFrom('a', 'b', '*'), 2),
      namespace: maybe(fc.constantFrom('a', 'b', '*'), 3),
      cluster: maybe(fc.constantFrom('a', 'b', '*'), 2),
      workloadType: maybe(fc.constant('cluster' as const), 2),
      ipPool: maybe(fc.constantFrom(...pools, 'missing'), 6),
      ip: maybe(fc.constantFrom(...UNIVERSE), 5),
      sharingKey: maybe(fc.constantFrom('k1', 'k2'), 3),
      ipFamilies: maybe(
        fc.constantFrom<string[]>(['IPv4'], ['IPv6'], ['IPv4', 'IPv6'], ['IPv6', 'IPv4'], ['IPv4', 'IPv6']),
        3,
      ),
    })
    .map(({ key, ...opts }) => {
      const clean: LbOptions = {};
      for (const [k, v] of Object.entries(opts))
        if (v !== undefined) (clean as Record<string, string | string[]>)[k] = v;
      return { k: 'request' as const, key, opts: clean };
    });
}

const releaseArb: fc.Arbitrary<GenCmd> = lbKey.map((key) => ({ k: 'release' as const, key }));
const forceArb = (pools: string[]): fc.Arbitrary<GenCmd> =>
  fc
    .record({
      ip: fc.constantFrom(...UNIVERSE),
      pool: fc.option(fc.constantFrom(...pools, 'missing'), { freq: 2 }),
    })
    .map((r) => ({ k: 'force' as const, ...r }));

/** Several pools, random scopes and ranges (overlaps included), created, updated and deleted. */
const mixedCommands: fc.Arbitrary<GenCmd[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        k: fc.constant('create' as const),
        name: fc.constantFrom(...POOL_NAMES),
        spec: specArb(ALL_TEMPLATES, scopeArb),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('update' as const),
        name: fc.constantFrom(...POOL_NAMES),
        spec: specArb(ALL_TEMPLATES, scopeArb),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ k: fc.constant('delete' as const), name: fc.constantFrom(...POOL_NAMES) }),
    },
    { weight: 10, arbitrary: requestArb(POOL_NAMES) },
    { weight: 4, arbitrary: releaseArb },
    { weight: 1, arbitrary: forceArb(POOL_NAMES) },
  ),
  { minLength: 5, maxLength: 50, size: 'max' },
);

/** One global pool under churn: many requests and releases, wrap-around, history, range updates. */
const churnCommands: fc.Arbitrary<GenCmd[]> = fc
  .tuple(
    specArb(DISJOINT_TEMPLATES, fc.constant(GLOBAL)),
    fc.array(
      fc.oneof(
        { weight: 10, arbitrary: requestArb(['g']) },
        { weight: 6, arbitrary: releaseArb },
        { weight: 1, arbitrary: forceArb(['g']) },
        {
          weight: 1,
          arbitrary: specArb(UPDATE_TEMPLATES, fc.constant(GLOBAL)).map((spec) => ({
            k: 'update' as const,
            name: 'g',
            spec,
          })),
        },
      ),
      { minLength: 10, maxLength: 80, size: 'max' },
    ),
  )
  .map(([spec, rest]) => [{ k: 'create' as const, name: 'g', spec }, ...rest]);

// ---------------------------------------------------------------------------------------- the runner

function toCommand(g: GenCmd, seq: number): IpamCommand {
  const meta = { seq, id: `m${seq}` };
  switch (g.k) {
    case 'create':
      return { type: 'CreatePool', data: { pool: poolWire(g.name, g.spec) }, meta };
    case 'update':
      return { type: 'UpdatePool', data: { pool: poolWire(g.name, g.spec) }, meta };
    case 'delete':
      return { type: 'DeletePool', data: { body: { metadata: { name: g.name } } }, meta };
    case 'request':
      return { type: 'RequestLoadBalancer', data: { loadBalancer: lb(g.key, g.opts) }, meta };
    case 'release': {
      const [namespace, name] = g.key.split('/');
      return { type: 'DeleteLoadBalancer', data: { body: { metadata: { namespace, name } } }, meta };
    }
    case 'force':
      return {
        type: 'ForceReleaseAddress',
        data: { body: g.pool === null ? { ip: g.ip } : { ip: g.ip, ipPool: g.pool } },
        meta,
      };
  }
}

function modelStep(model: ReferenceModel, g: GenCmd, seq: number): Expected {
  switch (g.k) {
    case 'create':
      return model.createPool(g.name, g.spec);
    case 'update':
      return model.updatePool(g.name, g.spec);
    case 'delete':
      return model.deletePool(g.name);
    case 'request': {
      const o = g.opts;
      const req: LbRequest = {
        key: g.key,
        network: o.network ?? '',
        project: o.project ?? '',
        namespace: o.namespace ?? g.key.split('/')[0],
        guestCluster: o.cluster ?? '',
        cluster: o.workloadType === 'cluster',
        ipPool: o.ipPool ?? null,
        ip: o.ip ?? null,
        ...(o.sharingKey !== undefined ? { sharingKey: o.sharingKey } : {}),
        ...(o.ipFamilies !== undefined
          ? { families: o.ipFamilies.map((f) => (f === 'IPv4' ? 4 : 6) as 4 | 6) }
          : {}),
      };
      return model.request(req);
    }
    case 'release':
      return model.release(g.key, seq);
    case 'force':
      return model.forceRelease(g.ip, g.pool, seq);
  }
}

/** The parts of an outcome event the model predicts. */
function outcome(e: IpamEvent): Expected {
  switch (e.type) {
    case 'PoolAccepted':
      return { type: e.type, change: e.data.change };
    case 'PoolRejected':
    case 'LBRejected':
    case 'AddressRejected':
      return { type: e.type, code: e.data.code };
    case 'IPAllocated': {
      const { addresses, sharingKey, sharedWith } = e.data;
      return {
        type: e.type,
        ipPool: e.data.ipPool,
        ip: e.data.ip,
        gateway: e.data.gateway,
        fromHistory: e.data.fromHistory,
        ...(addresses !== undefined
          ? {
              addresses: addresses.map((a) => ({
                ipPool: a.ipPool,
                ip: a.ip,
                gateway: a.gateway,
                fromHistory: a.fromHistory,
              })),
            }
          : {}),
        ...(sharingKey !== undefined ? { sharingKey } : {}),
        ...(sharedWith !== undefined ? { sharedWith } : {}),
      };
    }
    case 'IPReleased': {
      const { addresses, stillSharedBy } = e.data;
      return {
        type: e.type,
        loadBalancer: e.data.loadBalancer,
        ipPool: e.data.ipPool,
        ip: e.data.ip,
        ...(addresses !== undefined ? { addresses } : {}),
        ...(stillSharedBy !== undefined ? { stillSharedBy } : {}),
      };
    }
    case 'HistoryImported':
      throw new Error('not generated');
  }
}

/** Every bit of the state, in its own order (so that any write, even a reorder, shows). */
function snapshot(s: IpamState): string {
  return JSON.stringify(
    {
      pools: [...s.pools.entries()].map(([name, p]) => ({
        name,
        spec: canonicalSpecKey(p.def.spec),
        def: [
          p.def.name,
          p.def.total,
          p.def.global,
          p.def.priority,
          p.def.network,
          p.def.scope,
          p.def.autoAssign,
          p.def.families,
          p.def.ranges.map((r) => [r.index, r.start, r.end, r.gateway, r.total, r.cidr, r.excluded]),
        ],
        free: p.free.map((f) => [f.size, ...f.intervals()]),
        tables: p.tables.map((t) =>
          t.entries().map((e) => [e.offset, e.holder?.key ?? null, e.history?.key ?? null, e.seq]),
        ),
        counts: [p.allocatedCount, p.historyCount],
        last: lastAllocatedOf(p),
      })),
      loadBalancers: [...s.loadBalancers].map(([k, r]) => [
        k,
        r.key,
        r.pool?.def.name ?? null,
        r.pool ? heldAddress(r) : null,
        r.refs,
        r.history?.map((h) => [h.pool.def.name, h.range, h.offset]) ?? null,
        r.more?.map((m) => [m.pool.def.name, m.range, m.offset]) ?? null,
        r.share?.id ?? null,
      ]),
      shares: [...s.shares].map(([id, g]) => [id, g.id, g.sharingKey, g.holders.map((h) => h.key)]),
      held: s.held,
    },
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}

/** The invariants of the implementation state, checked without the model (but with its ranges). */
function invariantProblems(state: IpamState, model: ReferenceModel): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  // load balancers holding, and the addresses each holds (a sharer counts each shared address)
  const holders = new Set<string>();
  const heldBy = new Map<string, number>();
  const bumpHeld = (k: string) => {
    holders.add(k);
    heldBy.set(k, (heldBy.get(k) ?? 0) + 1);
  };
  for (const v of poolViews(state)) {
    const s = v.status;
    const entries = Object.entries(s.allocated);
    for (const [ip, holder] of entries) {
      const all = s.shared?.[ip] ?? [holder];
      if (all[0] !== holder) problems.push(`${ip}: allocated names ${holder}, shared ${all.join(', ')}`);
      all.forEach(bumpHeld);
    }
    if (
      typeof s.total !== 'number' ||
      typeof s.available !== 'number' ||
      s.available + entries.length !== s.total
    ) {
      problems.push(
        `${v.metadata.name}: available ${s.available} + allocated ${entries.length} != total ${s.total}`,
      );
    }
    for (const [ip, holder] of entries) {
      if (seen.has(ip)) problems.push(`${ip} held by ${seen.get(ip)} and ${holder}`);
      seen.set(ip, holder);
      if (!model.allocatable(v.metadata.name, ip))
        problems.push(`${ip} of ${v.metadata.name} is outside its ranges or a gateway`);
      for (const h of s.shared?.[ip] ?? [holder]) {
        const view = loadBalancerView(state, h);
        const mine = view?.addresses ?? (view ? [view] : []);
        if (!mine.some((a) => a.ip === ip && a.ipPool === v.metadata.name))
          problems.push(`${h} does not hold ${ip}`);
      }
    }
  }
  if (state.held !== holders.size)
    problems.push(`${state.held} holdings for ${holders.size} load balancers holding`);
  // every load balancer record is referred to exactly `refs` times, and only referred records are kept
  const refs = new Map<string, number>();
  const bump = (k: string) => refs.set(k, (refs.get(k) ?? 0) + 1);
  for (const [k, n] of heldBy) for (let i = 0; i < n; i++) bump(k);
  for (const p of state.pools.values()) {
    for (const e of historyEntries(p)) bump(e.loadBalancer);
    if (p.allocatedCount !== allocatedEntries(p).length || p.historyCount !== historyEntries(p).length)
      problems.push(`${p.def.name}: counts ${p.allocatedCount}/${p.historyCount} differ from its tables`);
  }
  for (const [k, r] of state.loadBalancers) {
    if (r.key !== k || r.refs !== refs.get(k))
      problems.push(`${k} counts ${r.refs} references, has ${refs.get(k)}`);
  }
  for (const k of refs.keys())
    if (!state.loadBalancers.has(k)) problems.push(`${k} is referred to but unknown`);
  return problems;
}

/** JSON with object keys sorted, so that two equal values give equal text. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

/** A cheap equality check per step; jest's diff only when it fails. */
function same(actual: unknown, expected: unknown): void {
  if (stable(actual) !== stable(expected)) expect(actual).toEqual(expected);
}

function runScenario(cmds: GenCmd[]): void {
  const state = initialState();
  const model = new ReferenceModel();
  const log: IpamEvent[] = [];
  cmds.forEach((g, i) => {
    const seq = i + 1;
    const command = toCommand(g, seq);
    const before = snapshot(state);
    const events = decide(command, state);
    // decide never writes the state it is given, and is deterministic
    same(snapshot(state), before);
    same(decide(command, state), events);
    same(events.length, 1);
    for (const e of events) evolve(state, e);
    log.push(...events);
    // the outcome is the reference model's
    same(
      { step: seq, command: g, outcome: outcome(events[0]) },
      { step: seq, command: g, outcome: modelStep(model, g, seq) },
    );
    // the status is the model's, counted address by address
    const views = poolViews(state);
    same(
      views.map((v) => [v.metadata.name, v.status]),
      model.poolNames().map((n) => [n, model.status(n)]),
    );
    const holdings = Object.fromEntries(
      [...state.loadBalancers]
        .filter(([, r]) => r.pool !== null)
        .map(([k]) => {
          const view = loadBalancerView(state, k)!;
          return [k, (view.addresses ?? [view]).map((a) => `${a.ipPool} ${a.ip}`).join(', ')];
        }),
    );
    same(holdings, model.holdingsView());
    same(invariantProblems(state, model), []);
  });
  // replay: folding the produced events into a fresh state reaches the same state
  const replayed = fold(log);
  expect(snapshot(replayed)).toBe(snapshot(state));
  expect(poolViews(replayed)).toEqual(poolViews(state));
}

describe('properties over random command sequences', () => {
  it('several pools with random scopes and ranges: outcomes and status equal the reference model; invariants hold; replay agrees; decide is pure', () => {
    fc.assert(fc.property(mixedCommands, runScenario), { numRuns: 100 });
  });

  it('one pool under churn: next-fit with history equals the reference model', () => {
    fc.assert(fc.property(churnCommands, runScenario), { numRuns: 100 });
  });

  it('the generators reach the interesting outcomes (a guard against a vacuous property)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.oneof(mixedCommands, churnCommands), (cmds) => {
        const state = initialState();
        cmds.forEach((g, i) => {
          const [e] = decide(toCommand(g, i + 1), state);
          evolve(state, e);
          const o = outcome(e);
          seen.add(
            'code' in o
              ? o.code
              : o.type === 'IPAllocated'
                ? `IPAllocated${o.fromHistory ? '+history' : ''}`
                : o.type,
          );
          if (o.type === 'IPAllocated' && o.sharedWith) seen.add('IPAllocated+shared');
          if (o.type === 'IPAllocated' && o.addresses) seen.add('IPAllocated+dual');
          if (o.type === 'IPReleased' && o.stillSharedBy) seen.add('IPReleased+stillShared');
        });
      }),
      { numRuns: 150, seed: 42 },
    );
    for (const k of [
      'IPAllocated',
      'IPAllocated+history',
      'IPReleased',
      'PoolAccepted',
      'PoolExhausted',
      'NoMatchingPool',
      'AddressUnavailable',
      'RangeOverlap',
      'ScopeOverlap',
      'DuplicatePriority',
      'GlobalPoolExists',
      'AllocatedOutOfRange',
      'ExcludesAllocated',
      'InvalidRange',
      'PoolInUse',
      'PoolExists',
      'UnknownPool',
      'UnknownLoadBalancer',
      'AddressNotAllocated',
      'SharingKeyConflict',
      'FamilyUnavailable',
      'IPAllocated+shared',
      'IPAllocated+dual',
      'IPReleased+stillShared',
    ]) {
      expect([k, seen.has(k)]).toEqual([k, true]);
    }
  });
});
