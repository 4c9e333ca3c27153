/**
 * decide(command, state) -> events: every rule lives here. Pure and deterministic: it reads the state
 * and the command (whose meta carries the input's sequence and id) and nothing else; it never writes
 * the state and never throws for a bad command (a rejection is an event).
 */
import { AddressSyntaxError, Family, familyOf, formatAddress, parseAddress } from './address.js';
import { IpamError } from './errors.js';
import {
  describeRequirement,
  lbKey,
  LoadBalancerRequest,
  parseLoadBalancer,
  parseLoadBalancerRef,
} from './load-balancer.js';
import type { IpamCommand, CommandMeta } from './pool.commands.js';
import type { AllocatedAddress, Causation, IpamEvent } from './pool.events.js';
import { fromHistory, nextFit, nextFitOfFamily } from './pool.allocate.js';
import { poolServes, selectPool } from './pool.select.js';
import {
  allocatedEntries,
  heldAddress,
  heldRefs,
  holderOf,
  isAllocatable,
  isExcluded,
  IpamState,
  isFree,
  LoadBalancerRecord,
  PoolState,
  rangeIndexOf,
  refKey,
  ShareGroup,
  shareId,
} from './pool.state.js';
import { otherPools, validateAgainstOthers, validateUpdateKeepsAllocations } from './pool.validate.js';
import { canonicalSpecKey, FAMILY_BIT, parsePool, PoolSpec, validatePoolName } from './pool-spec.js';
import { unknownPoolFields } from './pool.unknown-fields.js';

/** What every outcome repeats of its input: where it is, its id, and who asked (only when it says). */
function causation(meta: CommandMeta): Causation {
  return meta.actor === undefined
    ? { causationSeq: meta.seq, causationId: meta.id }
    : { causationSeq: meta.seq, causationId: meta.id, actor: meta.actor };
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

/** One address a decision hands out: its pool, its key, and whether history gave it. */
interface Pick {
  pool: PoolState;
  key: bigint;
  history: boolean;
}

function addressOf(p: Pick): AllocatedAddress {
  const range = p.pool.def.ranges[rangeIndexOf(p.pool, p.key)];
  return {
    ip: formatAddress(p.key),
    mask: range.maskText,
    prefixLength: range.cidr.prefixLength,
    gateway: range.gatewayText,
    ipPool: p.pool.def.name,
    fromHistory: p.history,
  };
}

/**
 * ipam.ip.allocated for one or more addresses: the first address's fields as always, then only what is
 * in use (`addresses` for more than one, `sharingKey`, `sharedWith` when others hold them too), so the
 * outcome of a request that uses neither reads exactly as before these existed.
 */
function allocatedAll(
  lb: string,
  picks: Pick[],
  sharingKey: string | null,
  sharedWith: string[],
  c: Causation,
): IpamEvent {
  const { ip, mask, prefixLength, gateway, ipPool, fromHistory } = addressOf(picks[0]);
  return {
    type: 'IPAllocated',
    data: {
      loadBalancer: lb,
      ipPool,
      ip,
      mask,
      prefixLength,
      gateway,
      fromHistory,
      ...(picks.length > 1 ? { addresses: picks.map(addressOf) } : {}),
      ...(sharingKey !== null ? { sharingKey } : {}),
      ...(sharedWith.length > 0 ? { sharedWith } : {}),
      ...c,
    },
  };
}

/**
 * The disabled pool (autoAssign false) whose ranges hold a requested address, or null. Selection never
 * picks a disabled pool, so an address of one is asked for by name: the address names its pool.
 */
function disabledPoolOf(state: IpamState, key: bigint): PoolState | null {
  for (const pool of state.pools.values()) {
    if (!pool.def.autoAssign && rangeIndexOf(pool, key) >= 0) return pool;
  }
  return null;
}

function parseRequestedIp(ip: string): bigint {
  try {
    return parseAddress(ip);
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw new IpamError('InvalidEvent', `spec.ip: ${e.message}.`);
    throw e;
  }
}

const familyName = (f: Family) => `IPv${f}`;

function requestLoadBalancer(req: LoadBalancerRequest, state: IpamState, c: Causation): IpamEvent {
  const held = state.loadBalancers.get(req.key);
  if (held !== undefined && held.pool !== null) {
    // sticky: the address(es) it holds, whatever this request asks
    if (held.more === null && held.share === null)
      return allocated(held.pool, req.key, heldAddress(held), false, c);
    return holding(held, c);
  }
  const wanted = req.ip === null ? null : parseRequestedIp(req.ip);
  if (wanted !== null && req.families !== null && !req.families.includes(familyOf(wanted))) {
    throw new IpamError(
      'AddressUnavailable',
      `spec.ip ${req.ip} is ${familyName(familyOf(wanted))}, but spec.ipFamilies asks for ${req.families.map(familyName).join(' and ')} only; ask for an address of those families or add its family.`,
    );
  }
  if (req.sharingKey !== null) {
    const group = state.shares.get(shareId(req.namespace, req.sharingKey));
    if (group !== undefined) return joinShare(req, wanted, group, state, c);
  }
  if (req.families === null) {
    const p = pick(req, wanted, state, 0);
    if (req.sharingKey === null) return allocated(p.pool, req.key, p.key, p.history, c);
    return allocatedAll(req.key, [p], req.sharingKey, [], c);
  }
  // dual-stack: every family in one decision, each from the state before it; any failure allocates nothing
  const picks = req.families.map((f) => pick(req, wanted, state, f));
  return allocatedAll(req.key, picks, req.sharingKey, [], c);
}

/**
 * The address a request gets for one family (0: any family, as without spec.ipFamilies): its pool
 * (spec.ipPool, the disabled pool its spec.ip names, or selection among the pools with a range of the
 * family), then the requested address, its history entry, or next-fit. Without a family the rejections
 * are today's; for a family, not finding a pool or a free address is FamilyUnavailable naming it.
 */
function pick(req: LoadBalancerRequest, wanted: bigint | null, state: IpamState, family: Family | 0): Pick {
  const bit = family === 0 ? 0 : FAMILY_BIT[family];
  const ip = wanted !== null && (family === 0 || familyOf(wanted) === family) ? wanted : null;
  let pool: PoolState | null;
  if (req.ipPool !== null) {
    pool = state.pools.get(req.ipPool) ?? null;
    if (!pool)
      throw new IpamError('UnknownPool', `spec.ipPool names pool "${req.ipPool}", which does not exist.`);
    if (family !== 0 && (pool.def.families & bit) === 0) {
      throw new IpamError(
        'FamilyUnavailable',
        `${familyName(family)}: spec.ipPool names pool "${pool.def.name}", which has no ${familyName(family)} range; nothing was allocated. Add such a range to it, or leave ${familyName(family)} out of spec.ipFamilies.`,
      );
    }
  } else if (ip !== null && (pool = disabledPoolOf(state, ip)) !== null) {
    // the requested address names its disabled pool, as spec.ipPool would
  } else {
    pool = selectPool(state, req.requirement, req.workloadType, bit);
    if (!pool) {
      if (family !== 0) {
        throw new IpamError(
          'FamilyUnavailable',
          `${familyName(family)}: no IP pool with an ${familyName(family)} range matches ${describeRequirement(req.requirement)}, and there is no global pool with one; nothing was allocated. Add such a range to a pool of that scope, or leave ${familyName(family)} out of spec.ipFamilies.`,
        );
      }
      throw new IpamError(
        'NoMatchingPool',
        `no IP pool matches ${describeRequirement(req.requirement)} and there is no global pool for it; create a pool with that scope (or a global pool), or name one in spec.ipPool.`,
      );
    }
  }
  if (ip !== null) {
    if (!isAllocatable(pool, ip)) {
      const i = rangeIndexOf(pool, ip);
      throw new IpamError(
        'AddressUnavailable',
        i < 0
          ? `${req.ip} is not inside the ranges of pool "${pool.def.name}"; ask for an address of that pool or leave spec.ip empty.`
          : isExcluded(pool, ip)
            ? `${req.ip} is excluded in pool "${pool.def.name}" (spec.ranges[${i}].exclude) and is never allocated.`
            : `${req.ip} is the gateway of pool "${pool.def.name}" and cannot be allocated.`,
      );
    }
    if (!isFree(pool, ip)) {
      throw new IpamError(
        'AddressUnavailable',
        `${req.ip} in pool "${pool.def.name}" is held by ${holderOf(pool, ip) ?? 'another load balancer'}; ask for another address or leave spec.ip empty.`,
      );
    }
    return { pool, key: ip, history: false };
  }
  const historic = fromHistory(state, pool, req.key, bit);
  if (historic !== null) return { pool, key: historic, history: true };
  const next = bit === 0 ? nextFit(pool) : nextFitOfFamily(pool, bit);
  if (next === null) {
    if (family !== 0) {
      throw new IpamError(
        'FamilyUnavailable',
        `${familyName(family)}: pool "${pool.def.name}" has no free ${familyName(family)} address; nothing was allocated. Add an ${familyName(family)} range to it, or release a load balancer.`,
      );
    }
    throw new IpamError(
      'PoolExhausted',
      `pool "${pool.def.name}" has no free address (${pool.def.total} in all, all allocated); add a range to it, release a load balancer, or create a higher-priority pool.`,
    );
  }
  return { pool, key: next, history: false };
}

/** The answer to a holder's repeated request: what it holds, with whom (sticky). */
function holding(rec: LoadBalancerRecord, c: Causation): IpamEvent {
  const picks = heldRefs(rec).map((r) => ({ pool: r.pool, key: refKey(r), history: false }));
  const group = rec.share;
  const others = group === null ? [] : group.holders.filter((h) => h !== rec).map((h) => h.key);
  return allocatedAll(rec.key, picks, group?.sharingKey ?? null, others, c);
}

/**
 * A later load balancer with a sharing key that some load balancer of its namespace holds: it gets the
 * key's address(es) (sharedWith names the holders), even where its own selection would pick another
 * pool, as long as each address's pool serves it (it names the pool or the address, or the pool's
 * scope matches it: sharing never reaches past the scopes an operator set) and it asks for the same
 * families; otherwise SharingKeyConflict, and nothing changes.
 */
function joinShare(
  req: LoadBalancerRequest,
  wanted: bigint | null,
  group: ShareGroup,
  state: IpamState,
  c: Causation,
): IpamEvent {
  const refs = heldRefs(group.holders[0]);
  const keys = refs.map(refKey);
  const holds = `sharing key "${group.sharingKey}" of namespace ${req.namespace} holds ${keys.map((k, i) => `${formatAddress(k)} (pool "${refs[i].pool.def.name}")`).join(' and ')} for ${group.holders.map((h) => h.key).join(', ')}`;
  if (req.families !== null) {
    const theirs = keys.map(familyOf);
    if (theirs.length !== req.families.length || !req.families.every((f) => theirs.includes(f))) {
      throw new IpamError(
        'SharingKeyConflict',
        `${holds}, but spec.ipFamilies asks for ${req.families.map(familyName).join(' and ')}; ask for the families the key holds, or use another sharing key.`,
      );
    }
  }
  if (req.ipPool !== null) {
    if (!state.pools.has(req.ipPool))
      throw new IpamError('UnknownPool', `spec.ipPool names pool "${req.ipPool}", which does not exist.`);
    if (refs.some((r) => r.pool.def.name !== req.ipPool)) {
      throw new IpamError(
        'SharingKeyConflict',
        `${holds}, but spec.ipPool names pool "${req.ipPool}"; name the key's pool, or use another sharing key.`,
      );
    }
  }
  if (wanted !== null && !keys.includes(wanted)) {
    throw new IpamError(
      'SharingKeyConflict',
      `${holds}, but spec.ip asks for ${req.ip}; ask for the key's address, or use another sharing key.`,
    );
  }
  refs.forEach((r, i) => {
    const served =
      req.ipPool !== null || wanted === keys[i] || poolServes(r.pool, req.requirement, req.workloadType);
    if (!served) {
      throw new IpamError(
        'SharingKeyConflict',
        `${holds}, but pool "${r.pool.def.name}" does not serve ${describeRequirement(req.requirement)}; name the pool in spec.ipPool, or use another sharing key.`,
      );
    }
  });
  const picks = refs.map((r, i) => ({ pool: r.pool, key: keys[i], history: false }));
  return allocatedAll(
    req.key,
    picks,
    group.sharingKey,
    group.holders.map((h) => h.key),
    c,
  );
}

/**
 * ipam.ip.released for a holder: its first address as always, then only what is in use: `addresses`
 * when it held more than one, `stillSharedBy` when others keep holding them (the address then stays
 * allocated; without it, it went back to the pool and into its history).
 */
function released(rec: LoadBalancerRecord, forced: boolean, c: Causation): IpamEvent {
  const refs = heldRefs(rec);
  const group = rec.share;
  const others = group === null ? [] : group.holders.filter((h) => h !== rec).map((h) => h.key);
  return {
    type: 'IPReleased',
    data: {
      loadBalancer: rec.key,
      ipPool: rec.pool!.def.name,
      ip: formatAddress(heldAddress(rec)),
      ...(forced ? { forced: true } : {}),
      ...(refs.length > 1
        ? { addresses: refs.map((r) => ({ ip: formatAddress(refKey(r)), ipPool: r.pool.def.name })) }
        : {}),
      ...(others.length > 0 ? { stillSharedBy: others } : {}),
      ...c,
    },
  };
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
  return released(held, false, c);
}

/**
 * Operator's force-release of an address (Harvester's manuallyReleaseIP): body {ip, ipPool?}. It releases
 * the address's holder as its LBDeleted would: all of a dual-stack holder's addresses; of a shared
 * address, its oldest holder only (stillSharedBy names the rest: one holder per input, as each holder's
 * timeline shows).
 */
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
    const rec = lb === null ? undefined : state.loadBalancers.get(lb);
    if (rec !== undefined && rec.pool !== null) return released(rec, true, c);
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
