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

function matching(
  state: IpamState,
  req: Requirement,
  match: (pool: Tuple, wanted: Tuple) => boolean,
): PoolState[] {
  const out: PoolState[] = [];
  for (const pool of state.pools.values()) {
    if (pool.def.global || pool.def.network !== req.network) continue;
    if (pool.def.scope.some((t) => match(t, req))) out.push(pool);
  }
  return out;
}

export function globalPool(state: IpamState): PoolState | null {
  for (const pool of state.pools.values()) if (pool.def.global) return pool;
  return null;
}

export function selectPool(
  state: IpamState,
  req: Requirement,
  workloadType: 'vm' | 'cluster',
): PoolState | null {
  const strict = best(matching(state, req, tupleMatches));
  if (strict) return strict;
  const global = globalPool(state);
  if (global && (global.def.network === '' || global.def.network === req.network)) return global;
  if (workloadType === 'cluster') return best(matching(state, req, tupleMatchesLoose));
  return null;
}
