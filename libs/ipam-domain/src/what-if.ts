/**
 * Dry runs (ipam.query.whatif): which load balancers a pool update or delete would affect, and how.
 * Pure: reads the state, the command and the outcome decide gave it, and writes nothing.
 */
import { formatAddress } from './address.js';
import { IpamError } from './errors.js';
import type { IpamCommand } from './pool.commands.js';
import type { IpamEvent } from './pool.events.js';
import { inIntervals, parsePool, type PoolDefinition } from './pool-spec.js';
import { tableEntries, type IpamState, type PoolState } from './pool.state.js';

/**
 * How an input would touch a load balancer's address:
 * - `blocksUpdate`: it holds an address the update takes away (out of the new ranges, excluded, or the
 *   new gateway), so the update is rejected (AllocatedOutOfRange, ExcludesAllocated);
 * - `blocksDelete`: it holds an address of the pool, so the delete is rejected (PoolInUse);
 * - `historyPruned`: its allocatedHistory entry goes (the address leaves the ranges, or the pool is
 *   deleted): a later request of it no longer gets that address back;
 * - `historyExcluded`: its allocatedHistory entry stays but the address becomes excluded: it is not
 *   given back.
 */
export type AffectEffect = 'blocksUpdate' | 'blocksDelete' | 'historyPruned' | 'historyExcluded';

export interface AffectedLoadBalancer {
  /** "namespace/name" */
  loadBalancer: string;
  ipPool: string;
  ip: string;
  effect: AffectEffect;
}

/** Is `key` an address the definition allocates: inside a range, not its gateway, not excluded? */
function allocatableIn(def: PoolDefinition, key: bigint): boolean {
  for (const r of def.ranges) {
    if (key >= r.start && key <= r.end) return r.gateway !== key && !inIntervals(r.excluded, key);
  }
  return false;
}

function inRanges(def: PoolDefinition, key: bigint): boolean {
  return def.ranges.some((r) => key >= r.start && key <= r.end);
}

function compare(a: AffectedLoadBalancer, b: AffectedLoadBalancer): number {
  if (a.ipPool !== b.ipPool) return a.ipPool < b.ipPool ? -1 : 1;
  if (a.loadBalancer !== b.loadBalancer) return a.loadBalancer < b.loadBalancer ? -1 : 1;
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

/** Every holder of the pool's addresses (each sharer of a shared one), as `effect`. */
function holders(
  pool: PoolState,
  effect: AffectEffect,
  keep: (ip: bigint) => boolean,
): AffectedLoadBalancer[] {
  const out: AffectedLoadBalancer[] = [];
  for (const e of tableEntries(pool)) {
    if (e.holder === null || !keep(e.ip)) continue;
    const ip = formatAddress(e.ip);
    const names = e.holder.share !== null ? e.holder.share.holders.map((h) => h.key) : [e.holder.key];
    for (const loadBalancer of names) out.push({ loadBalancer, ipPool: pool.def.name, ip, effect });
  }
  return out;
}

/**
 * The load balancers `command` would affect when decide answers it with `outcome` on `state` (the state
 * before it). Only pool updates and deletes affect others; every other input answers [].
 * Sorted by pool, load balancer, address.
 */
export function affectedBy(
  command: IpamCommand,
  outcome: IpamEvent,
  state: IpamState,
): AffectedLoadBalancer[] {
  if (command.type !== 'UpdatePool' && command.type !== 'DeletePool') return [];
  const name = outcome.type === 'PoolAccepted' || outcome.type === 'PoolRejected' ? outcome.data.name : '';
  const pool = state.pools.get(name);
  if (pool === undefined) return [];
  const out: AffectedLoadBalancer[] = [];
  if (command.type === 'DeletePool') {
    if (outcome.type === 'PoolRejected' && outcome.data.code === 'PoolInUse') {
      out.push(...holders(pool, 'blocksDelete', () => true));
    } else if (outcome.type === 'PoolAccepted') {
      for (const e of tableEntries(pool)) {
        if (e.history !== null)
          out.push({
            loadBalancer: e.history.key,
            ipPool: name,
            ip: formatAddress(e.ip),
            effect: 'historyPruned',
          });
      }
    }
    return out.sort(compare);
  }
  let def: PoolDefinition;
  try {
    def = parsePool(command.data.pool);
  } catch (e) {
    if (e instanceof IpamError) return [];
    throw e;
  }
  if (outcome.type === 'PoolRejected') {
    if (outcome.data.code === 'AllocatedOutOfRange' || outcome.data.code === 'ExcludesAllocated') {
      out.push(...holders(pool, 'blocksUpdate', (ip) => !allocatableIn(def, ip)));
    }
    return out.sort(compare);
  }
  if (outcome.type !== 'PoolAccepted') return [];
  for (const e of tableEntries(pool)) {
    if (e.history === null) continue;
    const effect: AffectEffect | null = !inRanges(def, e.ip)
      ? 'historyPruned'
      : !allocatableIn(def, e.ip) && allocatableIn(pool.def, e.ip)
        ? 'historyExcluded'
        : null;
    if (effect !== null)
      out.push({ loadBalancer: e.history.key, ipPool: name, ip: formatAddress(e.ip), effect });
  }
  return out.sort(compare);
}
