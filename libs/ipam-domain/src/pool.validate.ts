/**
 * Validation of a pool against the others (semantics section 6, rules 3-7), in the webhook's order.
 * Rules 1 and 2 (ranges present and valid) are part of parsing (pool-spec.ts).
 */
import { formatAddress } from './address.js';
import { reject } from './errors.js';
import { inIntervals, sameAddresses, type PoolDefinition, type RangeDef } from './pool-spec.js';
import { tupleMatches } from './pool.select.js';
import { allocatedEntries, IpamState, PoolState, rangeIndexOf } from './pool.state.js';

const NETWORK_FORMAT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function describeRange(r: RangeDef, spec: { subnet: string }): string {
  return `${spec.subnet} (${formatAddress(r.start)}-${formatAddress(r.end)})`;
}

function overlaps(a: RangeDef, b: RangeDef): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function describeTuple(t: { project: string; namespace: string; guestCluster: string }): string {
  return `{project: "${t.project}", namespace: "${t.namespace}", guestCluster: "${t.guestCluster}"}`;
}

/** Rules 3-6. `others` are all pools but the one being created or updated. */
export function validateAgainstOthers(def: PoolDefinition, others: PoolState[]): void {
  // 3. ranges of the pool overlap each other (adjacent is fine)
  for (let i = 0; i < def.ranges.length; i++) {
    for (let j = i + 1; j < def.ranges.length; j++) {
      if (overlaps(def.ranges[i], def.ranges[j])) {
        reject(
          'RangeOverlap',
          `spec.ranges[${i}] ${describeRange(def.ranges[i], def.spec.ranges[i])} overlaps spec.ranges[${j}] ${describeRange(def.ranges[j], def.spec.ranges[j])} of the same pool; make the ranges disjoint.`,
        );
      }
    }
  }
  // 4. ranges overlap any other pool's ranges
  for (const other of others) {
    for (let i = 0; i < def.ranges.length; i++) {
      for (let j = 0; j < other.def.ranges.length; j++) {
        if (overlaps(def.ranges[i], other.def.ranges[j])) {
          reject(
            'RangeOverlap',
            `spec.ranges[${i}] ${describeRange(def.ranges[i], def.spec.ranges[i])} overlaps range ${describeRange(other.def.ranges[j], other.def.spec.ranges[j])} of pool "${other.def.name}"; pools may not share addresses.`,
          );
        }
      }
    }
  }
  // 5. global pool, scope and priority
  if (def.global) {
    const existing = others.find((p) => p.def.global);
    if (existing) {
      reject(
        'GlobalPoolExists',
        `pool "${existing.def.name}" is already the global pool (scope */*/*); only one is allowed. Narrow this pool's scope or delete "${existing.def.name}".`,
      );
    }
  } else {
    for (let i = 0; i < def.scope.length; i++) {
      for (let j = i + 1; j < def.scope.length; j++) {
        if (tupleMatches(def.scope[i], def.scope[j])) {
          reject(
            'ScopeOverlap',
            `spec.selector.scope[${i}] ${describeTuple(def.scope[i])} overlaps scope[${j}] ${describeTuple(def.scope[j])} of the same pool; remove one of them.`,
          );
        }
      }
    }
    if (def.priority !== 0) {
      const same = others.find((p) => !p.def.global && p.def.priority === def.priority);
      if (same) {
        reject(
          'DuplicatePriority',
          `priority ${def.priority} is already used by pool "${same.def.name}"; a non-zero priority must be unique. Choose another priority.`,
        );
      }
    } else {
      for (const other of others) {
        if (other.def.global || other.def.priority !== 0 || other.def.network !== def.network) continue;
        for (const mine of def.scope) {
          const theirs = other.def.scope.find((t) => tupleMatches(mine, t));
          if (theirs) {
            reject(
              'ScopeOverlap',
              `scope ${describeTuple(mine)} overlaps scope ${describeTuple(theirs)} of pool "${other.def.name}" on the same network with priority 0; set a different priority or scope.`,
            );
          }
        }
      }
    }
  }
  // 6. network looks like namespace/name
  if (def.network !== '' && !NETWORK_FORMAT.test(def.network)) {
    reject(
      'InvalidNetwork',
      `spec.selector.network "${def.network}" is not a VM network reference; write it as namespace/name, for example default/vlan1.`,
    );
  }
}

/** Rule 7 (update only): every allocated address stays allocatable under the new ranges. */
export function validateUpdateKeepsAllocations(def: PoolDefinition, current: PoolState): void {
  if (current.allocatedCount === 0 || sameAddresses(current.def, def)) return;
  const probe: PoolState = { ...current, def };
  for (const { ip, loadBalancer: lb } of allocatedEntries(current)) {
    const i = rangeIndexOf(probe, ip);
    if (i < 0) {
      reject(
        'AllocatedOutOfRange',
        `${formatAddress(ip)} is allocated to ${lb} and would fall outside the new ranges; keep it in range or delete the load balancer first.`,
      );
    }
    if (def.ranges[i].gateway === ip) {
      reject(
        'AllocatedOutOfRange',
        `${formatAddress(ip)} is allocated to ${lb} and would become the gateway of spec.ranges[${i}]; choose another gateway.`,
      );
    }
    // 7b. an exclusion may not take away an address in use: delete its holder first
    if (inIntervals(def.ranges[i].excluded, ip)) {
      reject(
        'ExcludesAllocated',
        `${formatAddress(ip)} is allocated to ${lb} and spec.ranges[${i}].exclude would exclude it; leave it out of exclude or delete the load balancer first.`,
      );
    }
  }
}

export function otherPools(state: IpamState, name: string): PoolState[] {
  const out: PoolState[] = [];
  for (const p of state.pools.values()) if (p.def.name !== name) out.push(p);
  return out;
}
