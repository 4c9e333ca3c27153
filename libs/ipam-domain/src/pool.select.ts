/**
 * Choosing a pool for a load balancer (semantics section 5).
 */
import type { Requirement } from './load-balancer.js';
import type { ScopeTuple } from './pool-spec.js';
import type { IpamState, PoolState } from './pool.state.js';

type Tuple = Pick<ScopeTuple, 'project' | 'namespace' | 'guestCluster'>;

function fieldMatches(pool: string, wanted: string, looseEmpty: boolean): boolean {
  return pool === '*' || wanted === '*' || pool === wanted || (looseEmpty && pool === '');
}

/** Strict match of one scope tuple against another (or a requirement). */
export function tupleMatches(a: Tuple, b: Tuple): boolean {
  return (
    fieldMatches(a.project, b.project, false) &&
    fieldMatches(a.namespace, b.namespace, false) &&
    fieldMatches(a.guestCluster, b.guestCluster, false)
  );
}

/** Harvester v1.7 loose mode for cluster load balancers: a pool's empty project / guestCluster is "any". */
function tupleMatchesLoose(pool: Tuple, wanted: Tuple): boolean {
  return (
    fieldMatches(pool.project, wanted.project, true) &&
    fieldMatches(pool.namespace, wanted.namespace, false) &&
    fieldMatches(pool.guestCluster, wanted.guestCluster, true)
  );
}

/** Highest priority wins; a tie goes to the name that sorts first (deterministic, unlike Harvester). */
function best(candidates: PoolState[]): PoolState | null {
  let winner: PoolState | null = null;
  for (const p of candidates) {
    if (
      winner === null ||
      p.def.priority > winner.def.priority ||
      (p.def.priority === winner.def.priority && p.def.name < winner.def.name)
    ) {
      winner = p;
    }
  }
  return winner;
}

/**
 * May selection consider the pool at all? Not when it is disabled (spec.autoAssign false: it serves
 * only load balancers that name it or an address of it), nor when it has no range of the family asked
 * for (families: FAMILY_BIT bits; 0 asks for none in particular).
 */
function selectable(pool: PoolState, families: number): boolean {
  return pool.def.autoAssign && (families === 0 || (pool.def.families & families) !== 0);
}

function matching(
  state: IpamState,
  req: Requirement,
  match: (pool: Tuple, wanted: Tuple) => boolean,
  families: number,
): PoolState[] {
  const out: PoolState[] = [];
  for (const pool of state.pools.values()) {
    if (pool.def.global || pool.def.network !== req.network || !selectable(pool, families)) continue;
    if (pool.def.scope.some((t) => match(t, req))) out.push(pool);
  }
  return out;
}

export function globalPool(state: IpamState): PoolState | null {
  for (const pool of state.pools.values()) if (pool.def.global) return pool;
  return null;
}

/**
 * Section 5's choice. `families` (FAMILY_BIT bits) narrows it to pools with a range of that family
 * (spec.ipFamilies); 0 for any pool, as without ipFamilies.
 */
export function selectPool(
  state: IpamState,
  req: Requirement,
  workloadType: 'vm' | 'cluster',
  families = 0,
): PoolState | null {
  const strict = best(matching(state, req, tupleMatches, families));
  if (strict) return strict;
  const global = globalPool(state);
  if (
    global &&
    selectable(global, families) &&
    (global.def.network === '' || global.def.network === req.network)
  )
    return global;
  if (workloadType === 'cluster') return best(matching(state, req, tupleMatchesLoose, families));
  return null;
}

/**
 * Could selection give the load balancer this pool, priorities aside? A later holder of a sharing key
 * takes the key's address only from a pool that serves it so (or that it names): sharing never
 * reaches past the scopes an operator set.
 */
export function poolServes(
  pool: PoolState,
  req: Requirement,
  workloadType: 'vm' | 'cluster',
  families = 0,
): boolean {
  if (!selectable(pool, families)) return false;
  if (pool.def.global) return pool.def.network === '' || pool.def.network === req.network;
  if (pool.def.network !== req.network) return false;
  return pool.def.scope.some(
    (t) => tupleMatches(t, req) || (workloadType === 'cluster' && tupleMatchesLoose(t, req)),
  );
}
