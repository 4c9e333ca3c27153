/**
 * Snapshots of the state (snapshot.ts): a state exported, written as JSON text, read back and imported
 * decides every further command exactly as the state it came from. Random command sequences over the
 * reference model's range templates (IPv4 and IPv6, overlaps, gateways, excluded addresses, disabled
 * pools), with sharing keys, dual-stack requests, releases, force-releases, imported history and pool
 * updates and deletes; the snapshot is taken at a random point of each sequence.
 */
import fc from 'fast-check';
import { decide, evolve, handle, initialState, IpamCommand, IpamState, tableEntries } from '../src/index.js';
import {
  exportState,
  importState,
  SNAPSHOT_FORMAT,
  SnapshotError,
  type StateSnapshot,
} from '../src/snapshot.js';
import { lb, LbOptions } from './support.js';
import {
  addressText,
  ModelPoolSpec,
  ordinal,
  poolWire,
  TEMPLATES,
  Tuple,
  UNIVERSE,
} from './reference-model.js';

type GenCmd =
  | { k: 'create' | 'update'; name: string; spec: ModelPoolSpec }
  | { k: 'delete'; name: string }
  | { k: 'request'; key: string; opts: LbOptions }
  | { k: 'release'; key: string }
  | { k: 'force'; ip: string; pool: string | null }
  | { k: 'import'; pool: string; entries: Array<{ ip: string; loadBalancer: string }> };

const maybe = <T>(arb: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const POOLS = ['p0', 'p1', 'p2'];
const GLOBAL: Tuple[] = [{ project: '*', namespace: '*', guestCluster: '*' }];
const value = fc.constantFrom('', '*', 'a', 'b');
const scopeArb: fc.Arbitrary<Tuple[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(GLOBAL) },
  {
    weight: 2,
    arbitrary: fc.array(fc.record({ project: value, namespace: value, guestCluster: value }), {
      minLength: 1,
      maxLength: 2,
    }),
  },
);

/** An excluded address (or a short run) of the template's subnet. */
function excludeArb(templateIndex: number): fc.Arbitrary<string> {
  const t = TEMPLATES[templateIndex];
  const size = 2 ** ((t.family === 4 ? 32 : 128) - t.prefix);
  const host = fc.integer({ min: t.net, max: t.net + size - 1 });
  const text = (h: number) => addressText(ordinal(t.family, h));
  return fc.oneof(
    host.map(text),
    fc.tuple(host, host).map(([a, b]) => `${text(Math.min(a, b))}-${text(Math.max(a, b))}`),
  );
}

const specArb: fc.Arbitrary<ModelPoolSpec> = fc
  .record({
    ranges: fc.uniqueArray(fc.integer({ min: 0, max: TEMPLATES.length - 1 }), { minLength: 1, maxLength: 3 }),
    priority: fc.constantFrom(0, 1, 2),
    network: fc.constantFrom('', '', 'default/vlan1'),
    scope: scopeArb,
    autoAssign: fc.constantFrom<boolean | undefined>(undefined, undefined, false),
  })
  .chain((spec) =>
    fc
      .tuple(...spec.ranges.map((i) => maybe(fc.array(excludeArb(i), { minLength: 1, maxLength: 2 }), 3)))
      .map((exclude) => (exclude.every((e) => e === undefined) ? spec : { ...spec, exclude })),
  );

const lbKey = fc.constantFrom('a/lb0', 'a/lb1', 'a/lb2', 'a/lb3', 'b/lb0', 'b/lb1', 'b/lb2');

const requestArb: fc.Arbitrary<GenCmd> = fc
  .record({
    key: lbKey,
    network: maybe(fc.constant('default/vlan1'), 3),
    namespace: maybe(fc.constantFrom('a', 'b', '*'), 4),
    ipPool: maybe(fc.constantFrom(...POOLS), 5),
    ip: maybe(fc.constantFrom(...UNIVERSE), 5),
    sharingKey: maybe(fc.constantFrom('k1', 'k1', 'k2'), 2),
    ipFamilies: maybe(
      fc.constantFrom<string[]>(['IPv4', 'IPv6'], ['IPv6', 'IPv4'], ['IPv4', 'IPv6'], ['IPv4'], ['IPv6']),
      2,
    ),
  })
  .map(({ key, ...opts }) => {
    const clean: LbOptions = {};
    for (const [k, v] of Object.entries(opts))
      if (v !== undefined) (clean as Record<string, string | string[]>)[k] = v;
    return { k: 'request' as const, key, opts: clean };
  });

const commandsArb: fc.Arbitrary<GenCmd[]> = fc.array(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('create' as const),
        name: fc.constantFrom(...POOLS),
        spec: specArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('update' as const),
        name: fc.constantFrom(...POOLS),
        spec: specArb,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('delete' as const), name: fc.constantFrom(...POOLS) }),
    },
    { weight: 12, arbitrary: requestArb },
    { weight: 5, arbitrary: lbKey.map((key) => ({ k: 'release' as const, key })) },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('force' as const),
        ip: fc.constantFrom(...UNIVERSE),
        pool: fc.option(fc.constantFrom(...POOLS)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('import' as const),
        pool: fc.constantFrom(...POOLS),
        entries: fc.array(fc.record({ ip: fc.constantFrom(...UNIVERSE), loadBalancer: lbKey }), {
          minLength: 1,
          maxLength: 3,
        }),
      }),
    },
  ),
  { minLength: 10, maxLength: 80, size: 'max' },
);

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
    case 'import':
      return { type: 'ImportHistory', data: { body: { ipPool: g.pool, entries: g.entries } }, meta };
  }
}

/** Every used slot of every table: address, holder, history entry and its sequence (where it has one). */
function tables(state: IpamState): string[] {
  const out: string[] = [];
  for (const pool of state.pools.values())
    for (const e of tableEntries(pool))
      out.push(
        `${pool.def.name} ${e.ip} ${e.holder?.key ?? '-'} ${e.history?.key ?? '-'} ${e.history ? e.seq : ''}`,
      );
  return out;
}

/** The snapshot as it is stored and read back: JSON text. */
function throughJson(state: IpamState): IpamState {
  return importState(JSON.parse(JSON.stringify(exportState(state))) as StateSnapshot);
}

function run(commands: GenCmd[], cutAt: number): void {
  const original = initialState();
  const cut = Math.min(cutAt, commands.length);
  commands.slice(0, cut).forEach((g, i) => handle(toCommand(g, i + 1), original));
  const restored = throughJson(original);
  expect(exportState(restored)).toEqual(exportState(original));
  expect(tables(restored)).toEqual(tables(original));
  commands.slice(cut).forEach((g, i) => {
    const command = toCommand(g, cut + i + 1);
    const expected = decide(command, original);
    const actual = decide(command, restored);
    expect(actual).toEqual(expected);
    for (const e of expected) evolve(original, e);
    for (const e of actual) evolve(restored, e);
  });
  expect(exportState(restored)).toEqual(exportState(original));
  expect(tables(restored)).toEqual(tables(original));
}

describe('state snapshots (exportState / importState)', () => {
  it('a restored state decides every further command as the state it was taken from', () => {
    fc.assert(fc.property(commandsArb, fc.nat(80), run), { numRuns: 300 });
  });

  it('the generated sequences reach sharing, dual-stack, history, exclusions and disabled pools (not a vacuous property)', () => {
    // sequences in which some state (a possible cut) has the feature in its snapshot
    const seen = { shared: 0, dual: 0, history: 0, excluded: 0, disabled: 0 };
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const state = initialState();
        const here = { shared: false, dual: false, history: false, excluded: false, disabled: false };
        commands.forEach((g, i) => {
          handle(toCommand(g, i + 1), state);
          const s = exportState(state);
          here.shared ||= s.shares.some((x) => x.holders.length > 1);
          here.dual ||= s.records.more.length > 0;
          here.history ||= s.records.history.length > 0;
          here.excluded ||= s.pools.some((p) => p.spec.ranges.some((r) => r.exclude !== undefined));
          here.disabled ||= s.pools.some((p) => p.spec.autoAssign === false);
        });
        for (const k of Object.keys(here) as Array<keyof typeof here>) if (here[k]) seen[k]++;
      }),
      { numRuns: 200 },
    );
    expect(seen.shared).toBeGreaterThan(15);
    expect(seen.dual).toBeGreaterThan(15);
    expect(seen.history).toBeGreaterThan(50);
    expect(seen.excluded).toBeGreaterThan(50);
    expect(seen.disabled).toBeGreaterThan(20);
  });

  it('a restored state takes back a history entry released before the snapshot', () => {
    const state = initialState();
    const cmds: GenCmd[] = [
      { k: 'create', name: 'p0', spec: { ranges: [0], priority: 0, network: '', scope: GLOBAL } },
      { k: 'request', key: 'a/lb0', opts: {} },
      { k: 'request', key: 'a/lb1', opts: {} },
      { k: 'release', key: 'a/lb0' },
    ];
    cmds.forEach((g, i) => handle(toCommand(g, i + 1), state));
    const restored = throughJson(state);
    const again = toCommand({ k: 'request', key: 'a/lb0', opts: {} }, 5);
    const [event] = decide(again, restored);
    expect(event).toMatchObject({ type: 'IPAllocated', data: { fromHistory: true } });
    expect(event).toEqual(decide(again, state)[0]);
  });

  it('a snapshot of another format is refused, saying which', () => {
    const s = exportState(initialState());
    expect(() => importState({ ...s, format: SNAPSHOT_FORMAT + 1 })).toThrow(SnapshotError);
    expect(() => importState({ ...s, format: SNAPSHOT_FORMAT + 1 })).toThrow(/format 2 is not the format/);
  });
});
