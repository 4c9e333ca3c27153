/**
 * decide(command, state) -> events: every rule lives here. Pure and deterministic: it reads the state
 * and the command (whose meta carries the input's sequence and id) and nothing else; it never writes
 * the state and never throws for a bad command (a rejection is an event).
 */
import { AddressSyntaxError, formatAddress, parseAddress } from './address.js';
import { IpamError } from './errors.js';
import {
  describeRequirement,
  lbKey,
  LoadBalancerRequest,
  parseLoadBalancer,
  parseLoadBalancerRef,
} from './load-balancer.js';
import type { IpamCommand, CommandMeta } from './pool.commands.js';
import type { Causation, IpamEvent } from './pool.events.js';
import { fromHistory, nextFit } from './pool.allocate.js';
import { selectPool } from './pool.select.js';
import {
  allocatedEntries,
  heldAddress,
  holderOf,
  isAllocatable,
  isExcluded,
  IpamState,
  isFree,
  PoolState,
  rangeIndexOf,
} from './pool.state.js';
import { otherPools, validateAgainstOthers, validateUpdateKeepsAllocations } from './pool.validate.js';
import { canonicalSpecKey, parsePool, PoolSpec, validatePoolName } from './pool-spec.js';
import { unknownPoolFields } from './pool.unknown-fields.js';

function causation(meta: CommandMeta): Causation {
  return { causationSeq: meta.seq, causationId: meta.id };
}

/** The best name we can give a rejected pool event: metadata.name if it is a string, else "". */
function poolNameOf(body: unknown): string {
  const meta = (body as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof meta?.name === 'string' ? meta.name : '';
}

function lbKeyOf(body: unknown): string {
  const meta = (body as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  const ns = typeof meta?.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta?.name === 'string' ? meta.name : '';
  return ns === '' && name === '' ? '' : lbKey(ns, name);
}

export function decide(command: IpamCommand, state: IpamState): IpamEvent[] {
  const c = causation(command.meta);
  try {
    return [decideOrThrow(command, state, c)];
  } catch (e) {
    if (!(e instanceof IpamError)) throw e;
    switch (command.type) {
      case 'CreatePool':
      case 'UpdatePool':
        return [
          {
            type: 'PoolRejected',
            data: { name: poolNameOf(command.data.pool), code: e.code, reason: e.reason, ...c },
          },
        ];
      case 'DeletePool':
        return [
          {
            type: 'PoolRejected',
            data: { name: poolNameOf(command.data.body), code: e.code, reason: e.reason, ...c },
          },
        ];
      case 'ImportHistory': {
        const pool = (command.data.body as { ipPool?: unknown } | null)?.ipPool;
        return [
          {
            type: 'PoolRejected',
            data: { name: typeof pool === 'string' ? pool : '', code: e.code, reason: e.reason, ...c },
          },
        ];
      }
      case 'RequestLoadBalancer':
        return [
          {
            type: 'LBRejected',
            data: { loadBalancer: lbKeyOf(command.data.loadBalancer), code: e.code, reason: e.reason, ...c },
          },
        ];
      case 'DeleteLoadBalancer':
        return [
          {
            type: 'LBRejected',
            data: { loadBalancer: lbKeyOf(command.data.body), code: e.code, reason: e.reason, ...c },
          },
        ];
      case 'ForceReleaseAddress': {
        const body = command.data.body as { ip?: unknown; ipPool?: unknown } | null;
        return [
          {
            type: 'AddressRejected',
            data: {
              ip: typeof body?.ip === 'string' ? body.ip : '',
              ipPool: typeof body?.ipPool === 'string' ? body.ipPool : null,
              code: e.code,
              reason: e.reason,
              ...c,
            },
          },
        ];
      }
      case 'RejectInput':
        throw e;
    }
  }
}

function decideOrThrow(command: IpamCommand, state: IpamState, c: Causation): IpamEvent {
  switch (command.type) {
    case 'CreatePool':
      return createPool(command.data.pool, state, c);
    case 'UpdatePool':
      return updatePool(command.data.pool, state, c);
    case 'DeletePool':
      return deletePool(command.data.body, state, c);
    case 'RequestLoadBalancer':
      return requestLoadBalancer(parseLoadBalancer(command.data.loadBalancer), state, c);
    case 'DeleteLoadBalancer':
      return deleteLoadBalancer(command.data.body, state, c);
    case 'ForceReleaseAddress':
      return forceRelease(command.data.body, state, c);
    case 'ImportHistory':
      return importHistory(command.data.body, state, c);
    case 'RejectInput': {
      const { target, name, reason } = command.data;
      const code = command.data.code ?? 'InvalidEvent';
      if (target === 'pool') return { type: 'PoolRejected', data: { name, code, reason, ...c } };
      if (target === 'ip') {
        return {
          type: 'AddressRejected',
          data: { ip: name, ipPool: null, code, reason, ...c },
        };
      }
      return { type: 'LBRejected', data: { loadBalancer: name, code, reason, ...c } };
    }
  }
}

function createPool(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const def = parsePool(body);
  const existing = state.pools.get(def.name);
  if (existing) {
    if (canonicalSpecKey(existing.def.spec) === canonicalSpecKey(def.spec)) {
      return poolAccepted(def.name, 'created', existing.def.spec, body, c);
    }
    throw new IpamError(
      'PoolExists',
      `pool "${def.name}" already exists with a different spec; publish PoolUpdated to change it, or choose another name.`,
    );
  }
  validateAgainstOthers(def, otherPools(state, def.name));
  return poolAccepted(def.name, 'created', def.spec, body, c);
}

function updatePool(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const def = parsePool(body);
  const current = state.pools.get(def.name);
  if (!current) {
    throw new IpamError(
      'UnknownPool',
      `pool "${def.name}" does not exist; publish PoolCreated to create it.`,
    );
  }
  validateAgainstOthers(def, otherPools(state, def.name));
  validateUpdateKeepsAllocations(def, current);
  return poolAccepted(def.name, 'updated', def.spec, body, c);
}

/**
 * A create or update that took effect, naming the unknown fields of its body that were dropped
 * (section 9). `warnings` is left out when there are none: replay verification compares outcome texts,
 * and a stream's outcomes without the field must read the same to every build.
 */
function poolAccepted(
  name: string,
  change: 'created' | 'updated',
  spec: PoolSpec,
  body: unknown,
  c: Causation,
): IpamEvent {
  const warnings = unknownPoolFields(body);
  return {
    type: 'PoolAccepted',
    data: { name, change, spec, ...(warnings.length > 0 ? { warnings } : {}), ...c },
  };
}

function deletePool(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const name = validatePoolName((body as { metadata?: { name?: unknown } } | null)?.metadata?.name);
  const pool = state.pools.get(name);
  if (!pool) throw new IpamError('UnknownPool', `pool "${name}" does not exist.`);
  if (pool.allocatedCount > 0) {
    const first = allocatedEntries(pool)[0];
    throw new IpamError(
      'PoolInUse',
      `pool "${name}" still has ${pool.allocatedCount} allocated address(es) (for example ${formatAddress(first.ip)} held by ${first.loadBalancer}); delete those load balancers first.`,
    );
  }
  return { type: 'PoolAccepted', data: { name, change: 'deleted', ...c } };
}

function allocated(pool: PoolState, lb: string, ip: bigint, history: boolean, c: Causation): IpamEvent {
  const range = pool.def.ranges[rangeIndexOf(pool, ip)];
  return {
    type: 'IPAllocated',
    data: {
      loadBalancer: lb,
      ipPool: pool.def.name,
      ip: formatAddress(ip),
      mask: range.maskText,
      prefixLength: range.cidr.prefixLength,
      gateway: range.gatewayText,
      fromHistory: history,
      ...c,
    },
  };
}

/**
 * The disabled pool (autoAssign false) whose ranges hold a requested address, or null. Selection never
 * picks a disabled pool, so an address of one is asked for by name: the address names its pool.
 */
function disabledPoolOf(state: IpamState, ip: string): PoolState | null {
  let key: bigint;
  try {
    key = parseAddress(ip);
  } catch {
    return null; // the caller's check of spec.ip says what is wrong with it
  }
  for (const pool of state.pools.values()) {
    if (!pool.def.autoAssign && rangeIndexOf(pool, key) >= 0) return pool;
  }
  return null;
}

function requestLoadBalancer(req: LoadBalancerRequest, state: IpamState, c: Causation): IpamEvent {
  const held = state.loadBalancers.get(req.key);
  if (held !== undefined && held.pool !== null)
    return allocated(held.pool, req.key, heldAddress(held), false, c);
  let pool: PoolState | null;
  if (req.ipPool !== null) {
    pool = state.pools.get(req.ipPool) ?? null;
    if (!pool)
      throw new IpamError('UnknownPool', `spec.ipPool names pool "${req.ipPool}", which does not exist.`);
  } else if (req.ip !== null && (pool = disabledPoolOf(state, req.ip)) !== null) {
    // the requested address names its disabled pool, as spec.ipPool would
  } else {
    pool = selectPool(state, req.requirement, req.workloadType);
    if (!pool) {
      throw new IpamError(
        'NoMatchingPool',
        `no IP pool matches ${describeRequirement(req.requirement)} and there is no global pool for it; create a pool with that scope (or a global pool), or name one in spec.ipPool.`,
      );
    }
  }
  if (req.ip !== null) {
    let key: bigint;
    try {
      key = parseAddress(req.ip);
    } catch (e) {
      if (e instanceof AddressSyntaxError) throw new IpamError('InvalidEvent', `spec.ip: ${e.message}.`);
      throw e;
    }
    if (!isAllocatable(pool, key)) {
      const i = rangeIndexOf(pool, key);
      throw new IpamError(
        'AddressUnavailable',
        i < 0
          ? `${req.ip} is not inside the ranges of pool "${pool.def.name}"; ask for an address of that pool or leave spec.ip empty.`
          : isExcluded(pool, key)
            ? `${req.ip} is excluded in pool "${pool.def.name}" (spec.ranges[${i}].exclude) and is never allocated.`
            : `${req.ip} is the gateway of pool "${pool.def.name}" and cannot be allocated.`,
      );
    }
    if (!isFree(pool, key)) {
      throw new IpamError(
        'AddressUnavailable',
        `${req.ip} in pool "${pool.def.name}" is held by ${holderOf(pool, key) ?? 'another load balancer'}; ask for another address or leave spec.ip empty.`,
      );
    }
    return allocated(pool, req.key, key, false, c);
  }
  const historic = fromHistory(state, pool, req.key);
  if (historic !== null) return allocated(pool, req.key, historic, true, c);
  const next = nextFit(pool);
  if (next === null) {
    throw new IpamError(
      'PoolExhausted',
      `pool "${pool.def.name}" has no free address (${pool.def.total} in all, all allocated); add a range to it, release a load balancer, or create a higher-priority pool.`,
    );
  }
  return allocated(pool, req.key, next, false, c);
}

function deleteLoadBalancer(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const { key } = parseLoadBalancerRef(body);
  const held = state.loadBalancers.get(key);
  if (held === undefined || held.pool === null) {
    throw new IpamError(
      'UnknownLoadBalancer',
      `load balancer ${key} holds no address; there is nothing to release.`,
    );
  }
  return {
    type: 'IPReleased',
    data: { loadBalancer: key, ipPool: held.pool.def.name, ip: formatAddress(heldAddress(held)), ...c },
  };
}

/** Operator's force-release of an address (Harvester's manuallyReleaseIP): body {ip, ipPool?}. */
function forceRelease(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const b = (body ?? {}) as { ip?: unknown; ipPool?: unknown };
  if (typeof b.ip !== 'string')
    throw new IpamError('InvalidEvent', 'ip is required: the address to release.');
  if (b.ipPool !== undefined && b.ipPool !== null && typeof b.ipPool !== 'string') {
    throw new IpamError('InvalidEvent', 'ipPool must be a pool name.');
  }
  let key: bigint;
  try {
    key = parseAddress(b.ip);
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw new IpamError('InvalidEvent', `ip: ${e.message}.`);
    throw e;
  }
  const poolName = typeof b.ipPool === 'string' && b.ipPool !== '' ? b.ipPool : null;
  if (poolName !== null && !state.pools.has(poolName)) {
    throw new IpamError('UnknownPool', `pool "${poolName}" does not exist.`);
  }
  for (const pool of state.pools.values()) {
    if (poolName !== null && pool.def.name !== poolName) continue;
    const lb = holderOf(pool, key);
    if (lb !== null) {
      return {
        type: 'IPReleased',
        data: { loadBalancer: lb, ipPool: pool.def.name, ip: formatAddress(key), forced: true, ...c },
      };
    }
  }
  throw new IpamError(
    'AddressNotAllocated',
    `${b.ip} is not allocated${poolName !== null ? ` in pool "${poolName}"` : ' in any pool'}; there is nothing to release.`,
  );
}

/** History entries carried over from the vip-pools migration: body {ipPool, entries: [{ip, loadBalancer}]}. */
function importHistory(body: unknown, state: IpamState, c: Causation): IpamEvent {
  const b = (body ?? {}) as { ipPool?: unknown; entries?: unknown };
  const name = validatePoolName(b.ipPool);
  const pool = state.pools.get(name);
  if (!pool)
    throw new IpamError(
      'UnknownPool',
      `pool "${name}" does not exist; create it before importing its history.`,
    );
  if (!Array.isArray(b.entries))
    throw new IpamError('InvalidEvent', 'entries must be a list of {ip, loadBalancer}.');
  const entries: Array<{ ip: string; loadBalancer: string }> = [];
  b.entries.forEach((raw: unknown, i: number) => {
    const e = (raw ?? {}) as { ip?: unknown; loadBalancer?: unknown };
    if (
      typeof e.ip !== 'string' ||
      typeof e.loadBalancer !== 'string' ||
      !/^[^/]+\/[^/]+$/.test(e.loadBalancer)
    ) {
      throw new IpamError('InvalidEvent', `entries[${i}] must be {ip, loadBalancer: "namespace/name"}.`);
    }
    let key: bigint;
    try {
      key = parseAddress(e.ip);
    } catch (err) {
      if (err instanceof AddressSyntaxError)
        throw new IpamError('InvalidEvent', `entries[${i}].ip: ${err.message}.`);
      throw err;
    }
    if (!isAllocatable(pool, key)) {
      throw new IpamError(
        'AddressUnavailable',
        `entries[${i}]: ${e.ip} is not an allocatable address of pool "${name}".`,
      );
    }
    entries.push({ ip: formatAddress(key), loadBalancer: e.loadBalancer });
  });
  return { type: 'HistoryImported', data: { ipPool: name, entries, ...c } };
}
