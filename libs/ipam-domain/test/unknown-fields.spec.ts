/**
 * semantics.md section 9: an unknown field anywhere in a pool is dropped, never an error, and named in
 * the `warnings` of its ipam.pool.accepted. Known fields are read as before; an outcome without unknown
 * fields is the same text as before warnings existed (replay verification compares texts).
 */
import fc from 'fast-check';
import { parse } from 'yaml';
import {
  decide,
  fold,
  handle,
  initialState,
  IpamEvent,
  IpamState,
  MAX_NAMED_UNKNOWN_FIELDS,
  poolViews,
  unknownPoolFields,
} from '../src/index.js';
import { canonical, Commands, given, pool, World } from './support.js';
import { ModelPoolSpec, poolWire, Tuple } from './reference-model.js';

const dropped = (path: string) => `unknown field "${path}" was dropped`;

/** Harvester's own test suites write pools like this: `type` on each range. */
const HARVESTER_TEST_POOL = parse(`
apiVersion: loadbalancer.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: harvester-test
spec:
  ranges:
  - type: cidr
    subnet: 192.168.100.0/24
  - type: range
    subnet: 192.168.101.0/24
    rangeStart: 192.168.101.10
    rangeEnd: 192.168.101.20
  selector:
    scope:
    - namespace: default
      team: blue
`) as Record<string, unknown>;

/** The same pool with only the fields this service knows. */
const KNOWN_ONLY = pool(
  'harvester-test',
  [
    { subnet: '192.168.100.0/24' },
    { subnet: '192.168.101.0/24', rangeStart: '192.168.101.10', rangeEnd: '192.168.101.20' },
  ],
  { scope: [{ namespace: 'default' }] },
);

describe('section 9: unknown fields of a pool are dropped and named in warnings', () => {
  const cmd = new Commands(40);

  it('given no pools, when a pool with `type` on its ranges and an unknown scope key is created, then it is accepted with the known fields and one warning per dropped field', () => {
    const c = cmd.createPool(HARVESTER_TEST_POOL);
    given()
      .when(c)
      .then({
        type: 'PoolAccepted',
        data: {
          name: 'harvester-test',
          change: 'created',
          spec: canonical(KNOWN_ONLY),
          warnings: [
            dropped('spec.ranges[0].type'),
            dropped('spec.ranges[1].type'),
            dropped('spec.selector.scope[0].team'),
          ],
          causationSeq: c.meta.seq,
          causationId: c.meta.id,
        },
      });
  });

  it('the same rule holds at every level: the object, metadata, spec, each range, selector, each scope tuple (list or single object)', () => {
    const body = {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      extra: 1,
      metadata: { name: 'levels', owner: 'team-a' },
      spec: {
        description: 'every level',
        ranges: [{ subnet: '10.0.0.0/24', type: 'cidr' }],
        selector: { priority: 3, scope: { namespace: 'a', team: 'b' }, weight: 2 },
        autoAssignment: false,
      },
    };
    expect(unknownPoolFields(body)).toEqual([
      dropped('extra'),
      dropped('metadata.owner'),
      dropped('spec.ranges[0].type'),
      dropped('spec.selector.scope.team'),
      dropped('spec.selector.weight'),
      dropped('spec.autoAssignment'),
    ]);
  });

  it('a field is known only at its own level: a known name in the wrong place is dropped too', () => {
    const body = {
      metadata: { name: 'misplaced', priority: 1 },
      spec: {
        name: 'misplaced',
        ranges: [{ subnet: '10.0.0.0/24', priority: 1 }],
        selector: { namespace: 'a', scope: [{ subnet: '10.0.0.0/24', cluster: 'c' }] },
      },
      description: 'at the top',
    };
    expect(unknownPoolFields(body)).toEqual([
      dropped('metadata.priority'),
      dropped('spec.name'),
      dropped('spec.ranges[0].priority'),
      dropped('spec.selector.namespace'),
      dropped('spec.selector.scope[0].subnet'),
      dropped('description'),
    ]);
    const w = new World().mustCreate(body);
    expect(w.state.pools.get('misplaced')!.def.spec).toEqual({
      ranges: [{ subnet: '10.0.0.0/24' }],
      selector: { priority: 0, scope: [{ project: '', namespace: '', guestCluster: 'c' }] },
    });
  });

  it('an unknown field is dropped whatever its value (object, list, null, number), and not looked into', () => {
    const body = pool(
      'values',
      '10.0.0.0/24',
      {},
      {
        nested: { deeper: { ranges: [] } },
        list: [1, { type: 'x' }],
        nothing: null,
        count: 7,
      },
    );
    const e = new World().send(new Commands().createPool(body));
    expect(e).toMatchObject({
      type: 'PoolAccepted',
      data: {
        warnings: [
          dropped('spec.nested'),
          dropped('spec.list'),
          dropped('spec.nothing'),
          dropped('spec.count'),
        ],
      },
    });
  });

  it('a key that is not a plain word is written as a JSON string in brackets', () => {
    const body = pool(
      'keys',
      [{ subnet: '10.0.0.0/24', 'range type': 'cidr' } as never],
      {},
      {
        'x-note': 'a plain word with a dash',
        'a.b': 1,
        '"quoted"': 2,
      },
    );
    expect(unknownPoolFields(body)).toEqual([
      dropped('spec.ranges[0]["range type"]'),
      dropped('spec.x-note'),
      dropped('spec["a.b"]'),
      dropped('spec["\\"quoted\\""]'),
    ]);
  });

  it(`names at most ${MAX_NAMED_UNKNOWN_FIELDS} fields and counts the rest, so the outcome stays small`, () => {
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, i]));
    const warnings = unknownPoolFields(pool('many', '10.0.0.0/24', {}, extra));
    expect(warnings).toHaveLength(MAX_NAMED_UNKNOWN_FIELDS);
    expect(warnings.slice(0, MAX_NAMED_UNKNOWN_FIELDS - 1)).toEqual(
      Array.from({ length: MAX_NAMED_UNKNOWN_FIELDS - 1 }, (_, i) => dropped(`spec.f${i}`)),
    );
    expect(warnings[MAX_NAMED_UNKNOWN_FIELDS - 1]).toBe(
      `${30 - (MAX_NAMED_UNKNOWN_FIELDS - 1)} more unknown fields were dropped`,
    );
    expect(
      unknownPoolFields(
        pool(
          'exact',
          '10.0.0.0/24',
          {},
          Object.fromEntries(Array.from({ length: MAX_NAMED_UNKNOWN_FIELDS }, (_, i) => [`f${i}`, i])),
        ),
      ),
    ).toHaveLength(MAX_NAMED_UNKNOWN_FIELDS);
  });

  it('standard Kubernetes metadata and `status` (kubectl apply of a `get -o yaml` output) give no warning', () => {
    const body = {
      ...pool('from-kubectl', '10.0.0.0/24'),
      metadata: {
        name: 'from-kubectl',
        namespace: 'default',
        generateName: 'pool-',
        selfLink: '/apis/loadbalancer.harvesterhci.io/v1beta1/ippools/from-kubectl',
        uid: '6a1f4b0e-0000-4000-8000-000000000001',
        resourceVersion: '12345',
        generation: 2,
        creationTimestamp: '2026-11-27T20:46:18Z',
        deletionTimestamp: null,
        deletionGracePeriodSeconds: null,
        labels: { team: 'a' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
        ownerReferences: [],
        finalizers: ['wrangler.cattle.io/harvester-ipam-controller'],
        managedFields: [{ manager: 'kubectl', operation: 'Update' }],
      },
      status: { total: 253, available: 253, allocated: {}, allocatedHistory: {} },
    };
    expect(unknownPoolFields(body)).toEqual([]);
  });

  it('an outcome without unknown fields has no warnings key and is the same text as before warnings existed', () => {
    const c = {
      type: 'CreatePool' as const,
      data: { pool: parse(RKE2_POOL_WITH_KUBECTL_METADATA) },
      meta: { seq: 7, id: 'in-7' },
    };
    const [e] = decide(c, initialState());
    expect(JSON.stringify(e.data)).toBe(
      '{"name":"rke2-ip-pool","change":"created","spec":{"ranges":[{"subnet":"192.168.10.0/24",' +
        '"rangeStart":"192.168.10.10","rangeEnd":"192.168.10.20"}],"selector":{"priority":0,' +
        '"network":"default/vlan1","scope":[{"project":"product","namespace":"default","guestCluster":"rke2"}]}},' +
        '"causationSeq":7,"causationId":"in-7"}',
    );
  });

  it('warnings come after the spec and before the causation fields', () => {
    const c = {
      type: 'CreatePool' as const,
      data: { pool: HARVESTER_TEST_POOL },
      meta: { seq: 3, id: null },
    };
    const [e] = decide(c, initialState());
    expect(Object.keys(e.data)).toEqual([
      'name',
      'change',
      'spec',
      'warnings',
      'causationSeq',
      'causationId',
    ]);
  });

  it('given the pool, when it is created again with the identical spec but other unknown fields, then it is accepted (created, no effect) with the new warnings', () => {
    const w = new World().mustCreate(KNOWN_ONLY);
    const before = poolViews(w.state);
    const again = { ...KNOWN_ONLY, spec: { ...KNOWN_ONLY.spec, autoAssignment: true } };
    const e = w.send(w.cmd.createPool(again));
    expect(e).toEqual({
      type: 'PoolAccepted',
      data: {
        name: 'harvester-test',
        change: 'created',
        spec: canonical(KNOWN_ONLY),
        warnings: [dropped('spec.autoAssignment')],
        causationSeq: w.cmd.lastSeq,
        causationId: `msg-${w.cmd.lastSeq}`,
      },
    });
    expect(w.send(w.cmd.createPool(HARVESTER_TEST_POOL))).toMatchObject({
      type: 'PoolAccepted',
      data: {
        change: 'created',
        warnings: [
          dropped('spec.ranges[0].type'),
          dropped('spec.ranges[1].type'),
          dropped('spec.selector.scope[0].team'),
        ],
      },
    });
    expect(poolViews(w.state)).toEqual(before);
  });

  it('given the pool, when it is updated with unknown fields, then the update takes effect with its warnings', () => {
    const w = new World().mustCreate(KNOWN_ONLY);
    const update = {
      ...HARVESTER_TEST_POOL,
      spec: { ...(HARVESTER_TEST_POOL.spec as object), description: 'now described', colour: 'red' },
    };
    const e = w.send(w.cmd.updatePool(update));
    expect(e).toMatchObject({
      type: 'PoolAccepted',
      data: {
        change: 'updated',
        spec: { description: 'now described' },
        warnings: [
          dropped('spec.ranges[0].type'),
          dropped('spec.ranges[1].type'),
          dropped('spec.selector.scope[0].team'),
          dropped('spec.colour'),
        ],
      },
    });
  });

  it('a rejected pool carries no warnings: its rejection is the one it gets without the unknown fields', () => {
    const w = new World().mustCreate(pool('a', '10.0.0.0/24', { scope: [{ namespace: 'a' }] }));
    const overlapping = pool('b', [{ subnet: '10.0.0.128/25', type: 'cidr' } as never], {
      scope: [{ namespace: 'b' }],
    });
    const clean = pool('b', '10.0.0.128/25', { scope: [{ namespace: 'b' }] });
    const meta = { seq: 9, id: 'in-9' };
    const dirty = decide({ type: 'CreatePool', data: { pool: overlapping }, meta }, w.state);
    const plain = decide({ type: 'CreatePool', data: { pool: clean }, meta }, w.state);
    expect(dirty).toEqual(plain);
    expect(dirty[0]).toMatchObject({ type: 'PoolRejected', data: { code: 'RangeOverlap' } });
    expect('warnings' in dirty[0].data).toBe(false);
  });

  it('known fields keep their rules: a non-string scope field is still InvalidEvent', () => {
    const body = pool('p', '10.0.0.0/24', { scope: [{ namespace: 5 as never, team: 'x' } as never] });
    expect(new World().createRejected(body).code).toBe('InvalidEvent');
  });

  it('the fold reads a warned outcome as the same pool as a clean one', () => {
    const [warned] = decide(new Commands().createPool(HARVESTER_TEST_POOL), initialState());
    const [clean] = decide(new Commands().createPool(KNOWN_ONLY), initialState());
    expect(poolViews(fold([warned]))).toEqual(poolViews(fold([clean])));
  });
});

const RKE2_POOL_WITH_KUBECTL_METADATA = `
apiVersion: networking.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: rke2-ip-pool
  uid: 0d6e2f4a-0000-4000-8000-000000000002
  resourceVersion: "99"
  labels: { app: rke2 }
spec:
  ranges:
  - subnet: 192.168.10.0/24
    rangeStart: 192.168.10.10
    rangeEnd: 192.168.10.20
  selector:
    network: default/vlan1
    scope:
      project: product
      namespace: default
      cluster: rke2
status:
  total: 11
`;

// ------------------------------------------------------------------------------------------ properties

const DISJOINT_TEMPLATES = [0, 1, 2, 3, 4, 6, 7, 8, 10];
const value = fc.constantFrom('', '*', 'a', 'b');
const tupleArb: fc.Arbitrary<Tuple> = fc.record({ project: value, namespace: value, guestCluster: value });
const specArb: fc.Arbitrary<ModelPoolSpec> = fc.record({
  ranges: fc.uniqueArray(fc.constantFrom(...DISJOINT_TEMPLATES, 5, 9), { minLength: 1, maxLength: 3 }),
  priority: fc.constantFrom(0, 0, 1, 2),
  network: fc.constantFrom('', 'default/vlan1'),
  scope: fc.oneof(
    fc.constant<Tuple[]>([{ project: '*', namespace: '*', guestCluster: '*' }]),
    fc.array(tupleArb, { minLength: 0, maxLength: 2 }),
  ),
});

/** Where an unknown field may be put: a level, with an index for ranges and scope tuples. */
type Spot = 'top' | 'metadata' | 'spec' | 'selector' | ['range', number] | ['scope', number];
const spotArb: fc.Arbitrary<Spot> = fc.oneof(
  fc.constantFrom<Spot>('top', 'metadata', 'spec', 'selector'),
  fc.tuple(fc.constant('range' as const), fc.nat(2)),
  fc.tuple(fc.constant('scope' as const), fc.nat(1)),
);
/** Names no level of a pool knows. */
const unknownName = fc.constantFrom('type', 'x-note', 'zz', 'a b', 'kindOf');
const injectionArb = fc.uniqueArray(fc.record({ spot: spotArb, key: unknownName, value: fc.jsonValue() }), {
  maxLength: 6,
  selector: (i) => JSON.stringify([i.spot, i.key]),
});

type Wire = ReturnType<typeof poolWire> & Record<string, unknown>;

/** Puts the fields into a deep copy of the pool; returns it and the paths that exist in it. */
function inject(
  clean: Wire,
  fields: Array<{ spot: Spot; key: string; value: unknown }>,
  singleScope: boolean,
): { body: Record<string, unknown>; paths: string[] } {
  const body = structuredClone(clean) as Wire;
  const scope = body.spec.selector.scope as unknown as Array<Record<string, unknown>>;
  const shorthand = singleScope && scope.length === 1;
  if (shorthand) (body.spec.selector as Record<string, unknown>).scope = scope[0];
  const paths: string[] = [];
  const path = (parent: string, key: string) =>
    /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)
      ? parent === ''
        ? key
        : `${parent}.${key}`
      : `${parent}[${JSON.stringify(key)}]`;
  for (const { spot, key, value: v } of fields) {
    let target: Record<string, unknown> | undefined;
    let where = '';
    if (spot === 'top') target = body;
    else if (spot === 'metadata') [target, where] = [body.metadata, 'metadata'];
    else if (spot === 'spec') [target, where] = [body.spec, 'spec'];
    else if (spot === 'selector') [target, where] = [body.spec.selector, 'spec.selector'];
    else if (spot[0] === 'range') [target, where] = [body.spec.ranges[spot[1]], `spec.ranges[${spot[1]}]`];
    else if (shorthand) [target, where] = [spot[1] === 0 ? scope[0] : undefined, 'spec.selector.scope'];
    else [target, where] = [scope[spot[1]], `spec.selector.scope[${spot[1]}]`];
    if (target === undefined) continue;
    target[key] = v;
    paths.push(path(where, key));
  }
  return { body, paths };
}

describe('section 9 as properties', () => {
  it('unknown fields anywhere change no decision: the outcome is the one of the clean pool, plus a warning per field when accepted', () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { maxLength: 2 }),
        fc.constantFrom('create', 'update'),
        fc.constantFrom('p0', 'p1', 'p2'),
        specArb,
        injectionArb,
        fc.boolean(),
        (earlier, kind, name, spec, fields, singleScope) => {
          const state: IpamState = initialState();
          const cmd = new Commands();
          earlier.forEach((s, i) => handle(cmd.createPool(poolWire(`p${i}`, s)), state));
          const clean = poolWire(name, spec) as Wire;
          const { body, paths } = inject(clean, fields, singleScope);
          const meta = { seq: 100, id: 'in-100' };
          const type = kind === 'create' ? ('CreatePool' as const) : ('UpdatePool' as const);
          const [plain] = decide({ type, data: { pool: clean }, meta }, state);
          const [dirty] = decide({ type, data: { pool: body }, meta }, state);
          if (plain.type === 'PoolAccepted' && paths.length > 0) {
            expect(dirty).toEqual({
              type: 'PoolAccepted',
              data: { ...plain.data, warnings: expect.any(Array) as unknown as string[] },
            });
            const warnings = (dirty as Extract<IpamEvent, { type: 'PoolAccepted' }>).data.warnings!;
            expect([...warnings].sort()).toEqual(paths.map(dropped).sort());
          } else {
            expect(JSON.stringify(dirty)).toBe(JSON.stringify(plain));
          }
          expect(plain.data).not.toHaveProperty('warnings');
        },
      ),
      { numRuns: 300 },
    );
  });
});
