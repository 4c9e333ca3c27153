/**
 * Domain benchmark: the pure library only (handle / fold on in-memory state, no I/O).
 *
 *   fillV4Slash16PerSec  allocations/s filling an IPv4 /16 completely (65,533 distinct LBs via handle())
 *   flatness             mean time per allocation, last 10% of that fill / first 10%
 *   v6MillionPerSec      allocations/s for 1,000,000 LBs from an IPv6 /64
 *   bytesPerAllocation   heap growth per held address with those 1,000,000 LBs held (state only)
 *   foldEventsPerSec     events/s folding a generated 1,000,000-event log (read back from JSON, as a
 *                        replay reads it) into a fresh state: median of up to 7 runs
 *   churnFragmentedV4PerSec  (no target) release+request in a /16 left fragmented by random releases
 *   sharedRequestsPerSec (no target) requests of load balancers sharing addresses by key, 4 per key
 *   dualStackPerSec      (no target) load balancers given an IPv4 and an IPv6 address in one decision
 *   baseline*            a Map<number,string> insert loop of the same counts, measured in the same run
 *
 * Each timed section has a sanity check (every request allocated, the pool ends exhausted, the fold
 * reproduces the state that produced the log), so a fast wrong answer fails the run instead of
 * producing a figure. Run through `npm run bench` (or `node --expose-gc dist/bench/domain.bench.js
 * [fill|v6|fold|churn ...]` to run some sections only, e.g. under --cpu-prof).
 */
import {
  fold,
  handle,
  initialState,
  lastAllocatedOf,
  type IpamCommand,
  type IpamEvent,
  type IpamState,
} from '../libs/ipam-domain/src/index.js';
import { check, fmt, log, median, nowNs, prng, report, settledHeapUsed, fullGc } from './harness.js';

const V4_SLASH16_ALLOCATABLE = 65_533; // 65,536 minus network, broadcast and the default gateway
const FILL_RUNS = 7;
const V6_COUNT = 1_000_000;
const FOLD_EVENTS = 1_000_000;
const FOLD_RUNS = 7;
const FOLD_BUDGET_S = 20;

// ---------------------------------------------------------------------------------------------------
// Commands, as the service would build them from input events

let seq = 0;
const meta = () => ({ seq: ++seq, id: null });

interface Scope {
  project?: string;
  namespace?: string;
  guestCluster?: string;
}

function createPool(name: string, subnets: string[], scope: Scope, description?: string): IpamCommand {
  return {
    type: 'CreatePool',
    data: {
      pool: {
        metadata: { name },
        spec: {
          ...(description ? { description } : {}),
          ranges: subnets.map((subnet) => ({ subnet })),
          selector: { scope },
        },
      },
    },
    meta: meta(),
  };
}

function updatePool(name: string, subnets: string[], scope: Scope, description: string): IpamCommand {
  const command = createPool(name, subnets, scope, description);
  return { type: 'UpdatePool', data: command.data as { pool: unknown }, meta: command.meta };
}

function requestLb(namespace: string, name: string, ipPool: string | null): IpamCommand {
  return {
    type: 'RequestLoadBalancer',
    data: { loadBalancer: { metadata: { namespace, name }, spec: ipPool === null ? {} : { ipPool } } },
    meta: meta(),
  };
}

function deleteLb(namespace: string, name: string): IpamCommand {
  return { type: 'DeleteLoadBalancer', data: { body: { metadata: { namespace, name } } }, meta: meta() };
}

function accepted(events: IpamEvent[]): void {
  check(
    events.length === 1 && events[0].type === 'PoolAccepted',
    `pool not accepted: ${JSON.stringify(events)}`,
  );
}

/** Same-run reference: inserting `count` fresh strings into a Map<number, string>. */
function mapInsertNs(count: number): number {
  const m = new Map<number, string>();
  const t0 = nowNs();
  for (let i = 0; i < count; i++) m.set(i, `lb-${i}`);
  const t = nowNs() - t0;
  check(m.size === count, 'baseline map size');
  return t;
}

// ---------------------------------------------------------------------------------------------------
// 1. Fill an IPv4 /16

interface FillRun {
  totalNs: number;
  firstTenthNs: number;
  lastTenthNs: number;
}

function fillV4Slash16(): FillRun {
  const state = initialState();
  accepted(handle(createPool('fill', ['10.0.0.0/16'], { namespace: 'default' }), state));
  const n = V4_SLASH16_ALLOCATABLE;
  const tenth = Math.floor(n / 10);
  let firstEnd = 0;
  let lastStart = 0;
  const t0 = nowNs();
  for (let i = 0; i < n; i++) {
    if (i === tenth) firstEnd = nowNs();
    if (i === n - tenth) lastStart = nowNs();
    const events = handle(requestLb('default', `lb-${i}`, 'fill'), state);
    if (events[0].type !== 'IPAllocated')
      throw new Error(`request ${i} was not allocated: ${JSON.stringify(events)}`);
  }
  const t1 = nowNs();
  const pool = state.pools.get('fill')!;
  check(pool.allocatedCount === n && state.held === n, 'every address of the /16 is allocated');
  check(
    pool.free.every((f) => f.isEmpty()),
    'the /16 has no free address left',
  );
  const over = handle(requestLb('default', 'one-too-many', 'fill'), state)[0];
  check(
    over.type === 'LBRejected' && over.data.code === 'PoolExhausted',
    'a request beyond the /16 is PoolExhausted',
  );
  return { totalNs: t1 - t0, firstTenthNs: firstEnd - t0, lastTenthNs: t1 - lastStart };
}

function benchFill(): void {
  log(`fill IPv4 /16: 1 warm-up + ${FILL_RUNS} runs of ${fmt(V4_SLASH16_ALLOCATABLE)} allocations`);
  fillV4Slash16(); // warm-up: JIT, inline caches
  const runs: FillRun[] = [];
  for (let r = 0; r < FILL_RUNS; r++) {
    fullGc(); // start each run from the same heap, outside the timing
    runs.push(fillV4Slash16());
  }
  const rates = runs.map((r) => (V4_SLASH16_ALLOCATABLE / r.totalNs) * 1e9);
  const ratios = runs.map((r) => r.lastTenthNs / r.firstTenthNs);
  const baselineNs = median([0, 1, 2].map(() => mapInsertNs(V4_SLASH16_ALLOCATABLE)));
  const baselineRate = (V4_SLASH16_ALLOCATABLE / baselineNs) * 1e9;
  const rate = median(rates);
  report({
    name: 'fillV4Slash16PerSec',
    value: Math.round(rate),
    unit: 'alloc/s',
    target: { op: '>=', value: 200_000 },
    note: `median of ${FILL_RUNS}; range ${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}; ${fmt(1e6 / rate, 2)} µs/alloc`,
  });
  report({
    name: 'flatness',
    value: Number(median(ratios).toFixed(3)),
    unit: 'x',
    target: { op: '<=', value: 2 },
    note: `last 10% / first 10% per-alloc time, median of ${FILL_RUNS}; runs ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
  });
  report({
    name: 'baselineMapInsert65kPerSec',
    value: Math.round(baselineRate),
    unit: 'insert/s',
    baseline: true,
    note: `Map<number,string>.set x ${fmt(V4_SLASH16_ALLOCATABLE)}; fill is ${fmt(baselineRate / rate, 1)}x slower`,
  });
}

// ---------------------------------------------------------------------------------------------------
// 2. One million allocations from an IPv6 /64, and the heap they hold

interface V6Run {
  rate: number;
  /** last 10% / first 10% per-allocation time */
  flatness: number;
  /** heapUsed growth (after full GCs) while the state came to hold V6_COUNT addresses */
  heapBytes: number;
}

/** The state lives only in here, so that it is garbage once the figures are taken. */
function allocateV6Million(): V6Run {
  const state = initialState();
  accepted(handle(createPool('v6', ['fd00::/64'], { namespace: 'default' }), state));
  const before = settledHeapUsed();
  const tenth = V6_COUNT / 10;
  let firstEnd = 0;
  let lastStart = 0;
  const t0 = nowNs();
  for (let i = 0; i < V6_COUNT; i++) {
    if (i === tenth) firstEnd = nowNs();
    if (i === V6_COUNT - tenth) lastStart = nowNs();
    const events = handle(requestLb('default', `lb-${i}`, 'v6'), state);
    if (events[0].type !== 'IPAllocated')
      throw new Error(`request ${i} was not allocated: ${JSON.stringify(events)}`);
  }
  const t1 = nowNs();
  const after = settledHeapUsed(); // the events and commands are garbage by now: only the state is live
  check(state.held === V6_COUNT && state.pools.get('v6')!.allocatedCount === V6_COUNT, '1M held in the /64');
  return {
    rate: (V6_COUNT / (t1 - t0)) * 1e9,
    flatness: (t1 - lastStart) / (firstEnd - t0),
    heapBytes: after - before,
  };
}

/** Heap per entry of the reference Map<number, string> holding `count` entries. */
function mapHeapBytesPerEntry(count: number): number {
  const before = settledHeapUsed();
  const m = new Map<number, string>();
  for (let i = 0; i < count; i++) m.set(i, `lb-${i}`);
  const after = settledHeapUsed();
  check(m.size === count, 'baseline map size');
  return (after - before) / count;
}

function benchV6Million(): void {
  log(`IPv6 /64: ${fmt(V6_COUNT)} allocations, heap measured around them`);
  // warm the v6 paths (formatting and decoding IPv6 text) in a throw-away state
  const warm = initialState();
  accepted(handle(createPool('warm', ['fd01::/64'], { namespace: 'default' }), warm));
  for (let i = 0; i < 20_000; i++) handle(requestLb('default', `w-${i}`, 'warm'), warm);

  const { rate, flatness: v6Flatness, heapBytes } = allocateV6Million();
  const bytes = heapBytes / V6_COUNT;
  fullGc();
  // same-run references: the Map insert loop of the same count, its time and its heap per entry
  const baselineNs = median([0, 1, 2].map(() => mapInsertNs(V6_COUNT)));
  const baselineRate = (V6_COUNT / baselineNs) * 1e9;
  const mapBytes = mapHeapBytesPerEntry(V6_COUNT);

  report({
    name: 'v6MillionPerSec',
    value: Math.round(rate),
    unit: 'alloc/s',
    target: { op: '>=', value: 200_000 },
    note: `${fmt(1e6 / rate, 2)} µs/alloc; last/first 10% = ${v6Flatness.toFixed(2)}`,
  });
  report({
    name: 'bytesPerAllocation',
    value: Math.round(bytes),
    unit: 'bytes',
    target: { op: '<=', value: 400 },
    note: `heapUsed +${fmt(heapBytes / 2 ** 20, 1)} MiB for ${fmt(V6_COUNT)} held v6 addresses (after full GC)`,
  });
  report({
    name: 'baselineMapInsert1MPerSec',
    value: Math.round(baselineRate),
    unit: 'insert/s',
    baseline: true,
    note: `Map<number,string>.set x ${fmt(V6_COUNT)}; v6 allocation is ${fmt(baselineRate / rate, 1)}x slower`,
  });
  report({
    name: 'baselineMapBytesPerEntry',
    value: Math.round(mapBytes),
    unit: 'bytes',
    baseline: true,
    note: 'heap per entry of that Map (key + "lb-N" string)',
  });
}

// ---------------------------------------------------------------------------------------------------
// 3. Folding a one-million-event log

interface Lb {
  namespace: string;
  name: string;
}

/** Removes and returns a random element (order does not matter). */
function takeRandom<T>(list: T[], random: () => number): T {
  const i = Math.floor(random() * list.length);
  const picked = list[i];
  list[i] = list[list.length - 1];
  list.pop();
  return picked;
}

/**
 * A realistic log: four pools (two IPv4 with scopes, a tiny IPv4 pool that runs dry, a global IPv6
 * pool), LBs mostly placed by selector and sometimes by spec.ipPool, re-sent requests, deletes,
 * re-requests that come back from history, and the usual rejections.
 */
function generateLog(count: number): { log: IpamEvent[]; state: IpamState } {
  const random = prng(0x1badb002);
  const state = initialState();
  const log: IpamEvent[] = [];
  const run = (command: IpamCommand) => {
    for (const e of handle(command, state)) log.push(e);
  };
  const pools: Array<{ name: string; subnets: string[]; scope: Scope }> = [
    { name: 'pool-a', subnets: ['10.0.0.0/16', '10.1.0.0/16'], scope: { namespace: 'team-a' } },
    { name: 'pool-b', subnets: ['10.2.0.0/16'], scope: { namespace: 'team-b' } },
    { name: 'pool-c', subnets: ['192.168.0.0/28'], scope: { namespace: 'team-c' } },
    {
      name: 'pool-global',
      subnets: ['fd00::/64'],
      scope: { project: '*', namespace: '*', guestCluster: '*' },
    },
  ];
  for (const p of pools) run(createPool(p.name, p.subnets, p.scope));
  const poolOf: Record<string, string> = { 'team-a': 'pool-a', 'team-b': 'pool-b', 'team-c': 'pool-c' };

  const held: Lb[] = [];
  const released: Lb[] = [];
  let next = 0;
  const newNamespace = (): string => {
    const r = random();
    if (r < 0.5) return 'team-a';
    if (r < 0.65) return 'team-b';
    if (r < 0.67) return 'team-c';
    return `ns-${Math.floor(random() * 100)}`; // no scoped pool: the global IPv6 pool
  };
  const requestAndTrack = (lb: Lb, explicitPool: boolean) => {
    const pool = explicitPool ? (poolOf[lb.namespace] ?? 'pool-global') : null;
    run(requestLb(lb.namespace, lb.name, pool));
    if (log[log.length - 1].type === 'IPAllocated') held.push(lb);
    else released.push(lb); // rejected (pool-c exhausted): it may try again later
  };

  while (log.length < count) {
    const step = log.length;
    if (step % 250_000 === 100_000) {
      // a spec edit: the update path (validation against every allocation, free sets rebuilt)
      run(updatePool('pool-b', pools[1].subnets, pools[1].scope, `edited at ${step}`));
      continue;
    }
    if (step % 50_000 === 25_000) {
      run(createPool('pool-dup', ['10.1.128.0/24'], { namespace: 'team-z' })); // RangeOverlap -> PoolRejected
      continue;
    }
    const r = random();
    if (r < 0.38 || held.length === 0) {
      requestAndTrack({ namespace: newNamespace(), name: `lb-${next++}` }, random() < 0.2);
    } else if (r < 0.48) {
      const lb = held[Math.floor(random() * held.length)];
      run(requestLb(lb.namespace, lb.name, null)); // re-sent request: answered with the held address
    } else if (r < 0.78) {
      const lb = takeRandom(held, random);
      run(deleteLb(lb.namespace, lb.name));
      released.push(lb);
    } else if (r < 0.92 && released.length > 0) {
      // comes back: from history when its old address is still free (recent releases more likely)
      const recent = released.length > 1000 && random() < 0.7;
      const lb = recent
        ? released.splice(released.length - 1 - Math.floor(random() * 1000), 1)[0]
        : takeRandom(released, random);
      requestAndTrack(lb, false);
    } else if (r < 0.96) {
      run(deleteLb('ns-gone', `lb-${next++}`)); // UnknownLoadBalancer
    } else {
      run(requestLb('team-a', `lb-${next++}`, 'no-such-pool')); // UnknownPool
    }
  }
  return { log, state };
}

function benchFold(): void {
  log(`fold: generating a ${fmt(FOLD_EVENTS)}-event log with handle() (not timed)`);
  const g0 = nowNs();
  const generated = generateLog(FOLD_EVENTS);
  const genNs = nowNs() - g0;
  log(`(generated in ${fmt(genNs / 1e9, 1)} s)`);
  // The log as a replay reads it: JSON from the stream (JSON.parse gives flat strings; the texts
  // decide builds by concatenation, such as "namespace/name", are ropes that each Map lookup would
  // walk: ~7% slower in interleaved runs).
  const events = JSON.parse(JSON.stringify(generated.log)) as IpamEvent[];
  const expected = generated.state;
  const counts = new Map<string, number>();
  let fromHistory = 0;
  for (const e of events) {
    const key = e.type === 'LBRejected' || e.type === 'PoolRejected' ? `${e.type}:${e.data.code}` : e.type;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (e.type === 'IPAllocated' && e.data.fromHistory) fromHistory++;
  }
  const mix = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((v / events.length) * 100).toFixed(k.startsWith('Pool') ? 3 : 1)}%`)
    .join(', ');
  log(`log mix: ${mix}; ${fmt(fromHistory)} allocations from history; ${fmt(expected.held)} held at the end`);

  log(
    `fold: up to ${FOLD_RUNS} runs into a fresh state (fewer when they take over ${FOLD_BUDGET_S} s together)`,
  );
  const times: number[] = [];
  for (let r = 0; r < FOLD_RUNS && times.reduce((a, b) => a + b, 0) < FOLD_BUDGET_S * 1e9; r++) {
    fullGc();
    const t0 = nowNs();
    const folded = fold(events);
    times.push(nowNs() - t0);
    check(folded.held === expected.held, 'the fold holds what the generator holds');
    check(
      folded.loadBalancers.size === expected.loadBalancers.size,
      'the fold knows the same load balancers',
    );
    for (const [name, pool] of expected.pools) {
      const got = folded.pools.get(name);
      check(
        got !== undefined &&
          got.allocatedCount === pool.allocatedCount &&
          got.historyCount === pool.historyCount,
        `pool ${name} folds to the same allocations and history`,
      );
      check(lastAllocatedOf(got) === lastAllocatedOf(pool), `pool ${name} folds to the same lastAllocated`);
    }
  }
  const rate = (events.length / median(times)) * 1e9;
  const rates = times.map((t) => (events.length / t) * 1e9);
  report({
    name: 'foldEventsPerSec',
    value: Math.round(rate),
    unit: 'event/s',
    target: { op: '>=', value: 500_000 },
    note: `median of ${times.length} (${rates.map((x) => fmt(x)).join(', ')}); generating the log with handle() took ${fmt(genNs / 1e9, 1)} s`,
  });
  report({
    name: 'generateEventsPerSec',
    value: Math.round((events.length / genNs) * 1e9),
    unit: 'cmd/s',
    note: 'handle() over the same mix (decide + evolve), informational',
  });
}

// ---------------------------------------------------------------------------------------------------
// 4. Churn in a fragmented pool (informational: the fill above never fragments the free set)

const CHURN_STEPS = 10_000;

function benchChurn(): void {
  log(`churn: /16 filled, a random half released, then ${fmt(CHURN_STEPS)} x (release one, request one)`);
  const random = prng(0x5eed);
  const state = initialState();
  accepted(handle(createPool('churn', ['10.0.0.0/16'], { namespace: 'default' }), state));
  const held: string[] = [];
  for (let i = 0; i < V4_SLASH16_ALLOCATABLE; i++) {
    handle(requestLb('default', `lb-${i}`, 'churn'), state);
    held.push(`lb-${i}`);
  }
  const release = (): void => {
    const name = takeRandom(held, random);
    const e = handle(deleteLb('default', name), state)[0];
    if (e.type !== 'IPReleased') throw new Error(`release of ${name} failed: ${JSON.stringify(e)}`);
  };
  const half = Math.floor(V4_SLASH16_ALLOCATABLE / 2);
  const r0 = nowNs();
  for (let i = 0; i < half; i++) release();
  const releaseNs = nowNs() - r0;
  const pool = state.pools.get('churn')!;
  const holes = pool.free[0].intervalCount;
  let next = V4_SLASH16_ALLOCATABLE;
  const t0 = nowNs();
  for (let i = 0; i < CHURN_STEPS; i++) {
    release();
    const name = `lb-${next++}`;
    const e = handle(requestLb('default', name, 'churn'), state)[0];
    if (e.type !== 'IPAllocated') throw new Error(`request ${name} was not allocated: ${JSON.stringify(e)}`);
    held.push(name);
  }
  const churnNs = nowNs() - t0;
  check(pool.allocatedCount === held.length, 'churn keeps the held count');
  report({
    name: 'churnFragmentedV4PerSec',
    value: Math.round(((2 * CHURN_STEPS) / churnNs) * 1e9),
    unit: 'op/s',
    note: `release+request in a half-full /16 whose free set has ~${fmt(holes)} intervals; releasing that half ran at ${fmt((half / releaseNs) * 1e9)}/s`,
  });
}

// ---------------------------------------------------------------------------------------------------
// 5. Shared addresses and dual-stack (informational figures of the issue-14 features)

const SHARED_GROUPS = 20_000;
const SHARERS = 4;
const DUAL_STACK_COUNT = 100_000;

function lbWith(namespace: string, name: string, spec: Record<string, unknown>): IpamCommand {
  return {
    type: 'RequestLoadBalancer',
    data: { loadBalancer: { metadata: { namespace, name }, spec } },
    meta: meta(),
  };
}

function benchSharing(): void {
  log(`sharing: ${fmt(SHARED_GROUPS)} keys x ${SHARERS} load balancers in a /16, then every one released`);
  const state = initialState();
  accepted(handle(createPool('shared', ['10.64.0.0/16'], { namespace: 'default' }), state));
  const t0 = nowNs();
  let sharedAnswers = 0;
  for (let g = 0; g < SHARED_GROUPS; g++) {
    for (let k = 0; k < SHARERS; k++) {
      const [e] = handle(lbWith('default', `lb-${g}-${k}`, { sharingKey: `key-${g}` }), state);
      check(e.type === 'IPAllocated', `sharing: request answered ${e.type}`);
      if (k > 0 && (e.data as { sharedWith?: string[] }).sharedWith?.length === k) sharedAnswers++;
    }
  }
  const requestNs = nowNs() - t0;
  check(sharedAnswers === SHARED_GROUPS * (SHARERS - 1), 'every later sharer got the key address');
  check(state.pools.get('shared')?.allocatedCount === SHARED_GROUPS, 'one address per key');
  const t1 = nowNs();
  for (let g = 0; g < SHARED_GROUPS; g++) {
    for (let k = 0; k < SHARERS; k++) handle(deleteLb('default', `lb-${g}-${k}`), state);
  }
  const releaseNs = nowNs() - t1;
  check(state.pools.get('shared')?.allocatedCount === 0, 'the last holder of each key releases it');
  const ops = SHARED_GROUPS * SHARERS;
  report({
    name: 'sharedRequestsPerSec',
    value: Math.round((ops / requestNs) * 1e9),
    unit: 'req/s',
    note: `${fmt(ops)} requests with ${fmt(SHARED_GROUPS)} sharing keys; releasing them all ran at ${fmt((ops / releaseNs) * 1e9)}/s`,
  });
}

function benchDualStack(): void {
  log(`dual-stack: ${fmt(DUAL_STACK_COUNT)} load balancers asking for IPv4 and IPv6`);
  const state = initialState();
  // one pool of both families: each family's address from its own range
  accepted(handle(createPool('dual', ['10.128.0.0/15', 'fd00:2::/64'], { namespace: 'default' }), state));
  const t0 = nowNs();
  for (let i = 0; i < DUAL_STACK_COUNT; i++) {
    const [e] = handle(lbWith('default', `lb-${i}`, { ipFamilies: ['IPv4', 'IPv6'] }), state);
    check(
      e.type === 'IPAllocated' && (e.data as { addresses?: unknown[] }).addresses?.length === 2,
      `dual-stack: request answered ${JSON.stringify(e)}`,
    );
  }
  const ns = nowNs() - t0;
  check(state.pools.get('dual')?.allocatedCount === 2 * DUAL_STACK_COUNT, 'one address of each family each');
  report({
    name: 'dualStackPerSec',
    value: Math.round((DUAL_STACK_COUNT / ns) * 1e9),
    unit: 'lb/s',
    note: 'requests given one IPv4 and one IPv6 address each, in one decision',
  });
}

// ---------------------------------------------------------------------------------------------------

// Sections can be picked for profiling: node --expose-gc --cpu-prof dist/bench/domain.bench.js fold
const sections: Record<string, () => void> = {
  fill: benchFill,
  v6: benchV6Million,
  fold: benchFold,
  churn: benchChurn,
  sharing: benchSharing,
  'dual-stack': benchDualStack,
};
const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of picked)
  check(name in sections, `unknown section "${name}"; sections: ${Object.keys(sections).join(', ')}`);
const started = nowNs();
for (const [name, run] of Object.entries(sections)) {
  if (picked.length > 0 && !picked.includes(name)) continue;
  const t0 = nowNs();
  run();
  log(`(${name}: ${fmt((nowNs() - t0) / 1e9, 1)} s)`);
}
log(`domain bench done in ${fmt((nowNs() - started) / 1e9, 1)} s`);
