/**
 * evolve(state, event) -> state: applies one outcome. It mutates the state in place and returns it, so
 * that folding a long log copies nothing (decide never writes, so sharing is safe). It never throws:
 * an event that does not fit the state (a pool it does not know, an address outside the ranges) is
 * skipped, since the log is the record and the state only reflects it.
 */
import { decodeAddress, decodeV4, lastFormatted, splitV6, V4_BASE, V6_PARTS } from './address.js';
import { AddressTable } from './address-table.js';
import { definitionFromSpec, sameAddresses } from './pool-spec.js';
import type { AllocatedAddress, IPAllocatedData, IpamEvent } from './pool.events.js';
import {
  AddressRef,
  buildFreeSets,
  heldAddress,
  heldRefs,
  HistoryRef,
  IpamState,
  LoadBalancerRecord,
  newPoolState,
  offsetValue,
  PoolState,
  rangeIndexOf,
  refKey,
  ShareGroup,
  shareId,
  tableEntries,
} from './pool.state.js';

function safeDecode(text: string): bigint | null {
  try {
    return decodeAddress(text);
  } catch {
    return null;
  }
}

/**
 * Where an address of the log falls in a pool, set by locate(): the range and the offset from its
 * start, a number when below 2^53 - 1 (IPv4 and IPv6 text decoded without a bigint: this is the fold's
 * hottest path) and a bigint otherwise. Module scratch rather than a returned object, so that locating
 * allocates nothing.
 */
let atRange = -1;
let atOffset: bigint | number = 0;
let atV4 = -1;
/** the located address as a key, when locate had one (it decoded the text to a bigint), else null */
let atKey: bigint | null = null;

/**
 * How far (2^20) the middle 48 bits of an address may lie above its range start's for the number path:
 * offsets found so stay below 2^52 + 2^32, exact numbers.
 */
const V6_MIDDLE_SPAN = 0x100000;

/** Locates address text in a pool; false when it is not an address of the pool's ranges. */
function locate(pool: PoolState, text: string): boolean {
  const ranges = pool.def.ranges;
  const v4 = decodeV4(text);
  atV4 = v4;
  atKey = null;
  if (v4 >= 0) {
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      if (v4 >= r.v4Start && v4 <= r.v4End && r.v4Start >= 0) {
        atRange = i;
        atOffset = v4 - r.v4Start;
        return true;
      }
    }
    return false;
  }
  // text decide formatted a moment ago (handle: decide, then evolve) is known as a key already
  const known = lastFormatted(text);
  if (known === null && splitV6(text)) {
    // within 2^52 of a range's start, in the same top 48 bits: the offset as a number; anything else
    // (a range across a 2^80 boundary, an offset beyond) takes the bigint path below
    const { high, middle, low } = V6_PARTS;
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      const m = middle - r.v6Middle;
      if (r.v6High !== high || m < 0 || m >= V6_MIDDLE_SPAN) continue;
      const offset = m * 0x100000000 + (low - r.v6Low);
      if (offset >= 0 && offset <= r.v6Last) {
        atRange = i;
        atOffset = offset;
        return true;
      }
    }
  }
  const key = known ?? safeDecode(text);
  if (key === null) return false;
  const i = rangeIndexOf(pool, key);
  if (i < 0) return false;
  atKey = key;
  atRange = i;
  atOffset = offsetValue(key - ranges[i].start);
  return true;
}

/** The key of the located address. */
function locatedKey(pool: PoolState): bigint {
  if (atKey !== null) return atKey;
  return atV4 >= 0 ? V4_BASE + BigInt(atV4) : pool.def.ranges[atRange].start + BigInt(atOffset);
}

/** A new record, with no references yet: the caller adds the first one at once. */
function newRecord(state: IpamState, loadBalancer: string): LoadBalancerRecord {
  let rec = state.spare.pop();
  if (rec === undefined)
    rec = {
      key: loadBalancer,
      pool: null,
      range: -1,
      offset: 0,
      history: null,
      refs: 0,
      more: null,
      share: null,
    };
  else rec.key = loadBalancer;
  state.loadBalancers.set(loadBalancer, rec);
  return rec;
}

/** One reference fewer: a record nothing refers to any more leaves the state (and waits for reuse). */
function unref(state: IpamState, rec: LoadBalancerRecord): void {
  if (--rec.refs !== 0) return;
  state.loadBalancers.delete(rec.key);
  rec.pool = null;
  rec.more = null;
  rec.share = null;
  if (rec.history !== null) rec.history.length = 0;
  state.spare.push(rec);
}

/** Is this history reference still the entry of its address (in a pool the state still has)? */
function live(state: IpamState, rec: LoadBalancerRecord, ref: HistoryRef): boolean {
  const pool = ref.pool;
  // a pool update rebuilds the tables (and notes the entries again): a reference to an old table is stale
  return (
    pool.tables[ref.range] === ref.table &&
    ref.table.history(ref.offset) === rec &&
    state.pools.get(pool.def.name) === pool
  );
}

/**
 * Remembers where a history entry for this record was written, dropping overwritten ones (whose
 * objects it reuses: most releases then allocate nothing).
 */
function noteHistory(
  state: IpamState,
  rec: LoadBalancerRecord,
  pool: PoolState,
  range: number,
  offset: bigint | number,
): void {
  const table = pool.tables[range];
  const list = rec.history;
  if (list === null) {
    rec.history = [{ pool, range, table, offset }];
    return;
  }
  let kept = 0;
  let present = false;
  let reusable: HistoryRef | null = null;
  for (let k = 0; k < list.length; k++) {
    const ref = list[k];
    if (!live(state, rec, ref)) {
      reusable = ref;
      continue;
    }
    if (ref.table === table && ref.offset === offset) present = true;
    list[kept++] = ref;
  }
  if (kept !== list.length) list.length = kept;
  if (present) return;
  if (reusable === null) {
    list.push({ pool, range, table, offset });
  } else {
    reusable.pool = pool;
    reusable.range = range;
    reusable.table = table;
    reusable.offset = offset;
    list.push(reusable);
  }
}

/** Writes a history entry on an address nobody holds (the migration's import). */
function importEntry(
  state: IpamState,
  pool: PoolState,
  i: number,
  ip: bigint,
  lb: string,
  seq: number,
): void {
  const table = pool.tables[i];
  const offset = offsetValue(ip - pool.def.ranges[i].start);
  if (table.holder(offset) !== null) return;
  const rec = state.loadBalancers.get(lb) ?? newRecord(state, lb);
  const previous = table.setHistory(offset, rec, seq);
  if (previous !== rec) {
    rec.refs++;
    if (previous === null) pool.historyCount++;
    else unref(state, previous);
  }
  noteHistory(state, rec, pool, i, offset);
}

/** The reference to the address `ip` of the record's in this pool: the record itself, or one of `more`. */
function heldRefOf(rec: LoadBalancerRecord, pool: PoolState, ip: bigint): AddressRef {
  if (rec.more !== null && !(rec.pool === pool && heldAddress(rec) === ip)) {
    for (const ref of rec.more) if (ref.pool === pool && refKey(ref) === ip) return ref;
  }
  return rec as AddressRef;
}

/**
 * Holds the addresses of a dual-stack allocation beyond the first (`addresses[1..]`), each as the first
 * is held: out of its free set, into its table (erasing its history entry), the pool's cursor on it.
 */
function holdMore(state: IpamState, rec: LoadBalancerRecord, addresses: AllocatedAddress[]): void {
  for (let k = 1; k < addresses.length; k++) {
    const a = addresses[k];
    const pool = state.pools.get(a.ipPool);
    if (!pool || !locate(pool, a.ip)) continue;
    const i = atRange;
    const offset = atOffset;
    const key = locatedKey(pool);
    if (!pool.free[i].delete(key)) continue;
    const previous = pool.tables[i].hold(offset, rec);
    rec.refs++;
    pool.allocatedCount++;
    if (previous !== null) {
      pool.historyCount--;
      unref(state, previous);
    }
    pool.lastOffset = -1;
    pool.lastAllocated = key;
    (rec.more ??= []).push({ pool, range: i, offset });
  }
}

/** Releases a dual-stack holder's addresses beyond the first into history, as the first. */
function releaseMore(state: IpamState, rec: LoadBalancerRecord, seq: number): void {
  for (const ref of rec.more!) {
    const pool = ref.pool;
    if (state.pools.get(pool.def.name) !== pool || pool.tables[ref.range].holder(ref.offset) !== rec)
      continue;
    pool.tables[ref.range].releaseTo(ref.offset, seq);
    pool.free[ref.range].add(refKey(ref));
    pool.allocatedCount--;
    pool.historyCount++;
    noteHistory(state, rec, pool, ref.range, ref.offset);
  }
  rec.more = null;
}

/** The namespace of "namespace/name" (a namespace has no "/"). */
function namespaceOf(loadBalancer: string): string {
  return loadBalancer.slice(0, loadBalancer.indexOf('/'));
}

/** The first holder of a sharing key: the group starts with it. */
function startShare(state: IpamState, rec: LoadBalancerRecord, sharingKey: string): void {
  const id = shareId(namespaceOf(rec.key), sharingKey);
  if (state.shares.has(id)) return;
  const group: ShareGroup = { id, sharingKey, holders: [rec] };
  state.shares.set(id, group);
  rec.share = group;
}

/** A later holder points at the addresses of the group's first holder. */
function copyHolding(to: LoadBalancerRecord, from: LoadBalancerRecord): void {
  to.pool = from.pool;
  to.range = from.range;
  to.offset = from.offset;
  to.more =
    from.more === null ? null : from.more.map((r) => ({ pool: r.pool, range: r.range, offset: r.offset }));
}

function resyncShare(group: ShareGroup): void {
  const first = group.holders[0];
  for (let k = 1; k < group.holders.length; k++) copyHolding(group.holders[k], first);
}

/** A later holder of a sharing key (IPAllocated with sharedWith): it joins the key's group. */
function joinShare(
  state: IpamState,
  d: IPAllocatedData,
  pool: PoolState,
  rec: LoadBalancerRecord | undefined,
): IpamState {
  const group = state.shares.get(shareId(namespaceOf(d.loadBalancer), d.sharingKey ?? ''));
  if (group === undefined) return state;
  const first = group.holders[0];
  // the outcome names the group's address (locate found it): anything else is not this fold's
  if (first.pool !== pool || first.range !== atRange || first.offset !== atOffset) return state;
  const joining = rec ?? newRecord(state, d.loadBalancer);
  copyHolding(joining, first);
  joining.refs += 1 + (joining.more?.length ?? 0);
  joining.share = group;
  group.holders.push(joining);
  state.held++;
  return state;
}

/** A holder leaves its group while others keep the address(es): the next oldest is named in the tables. */
function leaveShare(state: IpamState, rec: LoadBalancerRecord, group: ShareGroup): void {
  const at = group.holders.indexOf(rec);
  group.holders.splice(at, 1);
  const refs = heldRefs(rec);
  if (at === 0) for (const r of refs) r.pool.tables[r.range].hold(r.offset, group.holders[0]);
  rec.pool = null;
  rec.more = null;
  rec.share = null;
  state.held--;
  for (let k = 0; k < refs.length; k++) unref(state, rec);
}

export function evolve(state: IpamState, event: IpamEvent): IpamState {
  switch (event.type) {
    case 'PoolAccepted': {
      const { name, change, spec, causationSeq } = event.data;
      const current = state.pools.get(name);
      if (change === 'deleted') {
        if (current) {
          state.pools.delete(name);
          // decide refuses to delete a pool in use; keep the fold total anyway
          for (const e of tableEntries(current)) {
            if (e.holder !== null) {
              e.holder.pool = null;
              state.held--;
              unref(state, e.holder);
            }
            if (e.history !== null) unref(state, e.history);
          }
        }
        return state;
      }
      if (!spec) return state;
      if (change === 'created' && current) return state; // an identical re-create: no effect
      const def = definitionFromSpec(name, spec);
      if (!def) return state;
      if (!current) {
        state.pools.set(name, newPoolState(def, causationSeq));
        return state;
      }
      current.version = causationSeq;
      if (sameAddresses(current.def, def)) {
        // an edit of scope, priority or description: the addresses, free sets and tables stay as they are
        current.def = def;
        return state;
      }
      // an update of the ranges: the tables are rebuilt for the new ones
      const entries = tableEntries(current);
      // which of its holder's addresses each held entry is, worked out while the old ranges are in force
      const targets = entries.map((e) => (e.holder === null ? null : heldRefOf(e.holder, current, e.ip)));
      current.def = def;
      current.tables = def.ranges.map((r) => new AddressTable<LoadBalancerRecord>(r.end - r.start + 1n));
      current.allocatedCount = 0;
      current.historyCount = 0;
      const held: bigint[] = [];
      for (let k = 0; k < entries.length; k++) {
        const e = entries[k];
        const i = rangeIndexOf(current, e.ip);
        const offset = i < 0 ? 0 : offsetValue(e.ip - def.ranges[i].start);
        if (e.holder !== null) {
          if (i < 0) {
            // cannot happen for an accepted update (rule 7); keep the fold total anyway
            e.holder.pool = null;
            state.held--;
            unref(state, e.holder);
          } else {
            current.tables[i].hold(offset, e.holder);
            const target = targets[k]!;
            target.range = i;
            target.offset = offset;
            current.allocatedCount++;
            held.push(e.ip);
          }
        }
        if (e.history !== null) {
          if (i < 0) {
            unref(state, e.history);
          } else {
            current.tables[i].setHistory(offset, e.history, e.seq);
            current.historyCount++;
            noteHistory(state, e.history, current, i, offset);
          }
        }
      }
      current.free = buildFreeSets(def, held);
      // a sharing group's later holders point at the addresses of its first, which may have moved
      for (const group of state.shares.values()) resyncShare(group);
      return state;
    }
    case 'IPAllocated': {
      const { loadBalancer, ipPool, ip } = event.data;
      const pool = state.pools.get(ipPool);
      if (!pool || !locate(pool, ip)) return state;
      let rec = state.loadBalancers.get(loadBalancer);
      // a repeated request, answered with the address it already holds
      if (rec !== undefined && rec.pool !== null) return state;
      // a later holder of a sharing key: the key's address(es), already allocated
      if (event.data.sharedWith !== undefined) return joinShare(state, event.data, pool, rec);
      const i = atRange;
      const offset = atOffset;
      const free = pool.free[i];
      if (!(typeof offset === 'number' ? free.deleteOffset(offset) : free.delete(locatedKey(pool))))
        return state;
      if (rec === undefined) rec = newRecord(state, loadBalancer);
      rec.refs++;
      rec.pool = pool;
      rec.range = i;
      rec.offset = offset;
      state.held++;
      const previous = pool.tables[i].hold(offset, rec);
      pool.allocatedCount++;
      if (previous !== null) {
        pool.historyCount--;
        unref(state, previous);
      }
      // an offset stays a number until someone reads lastAllocated (lastAllocatedOf)
      if (atV4 >= 0) {
        pool.lastOffset = atV4;
        pool.lastBase = V4_BASE;
      } else if (typeof offset === 'number' && atKey === null) {
        pool.lastOffset = offset;
        pool.lastBase = pool.def.ranges[i].start;
      } else {
        pool.lastOffset = -1;
        pool.lastAllocated = locatedKey(pool);
      }
      const { addresses, sharingKey } = event.data;
      if (addresses !== undefined) holdMore(state, rec, addresses);
      if (sharingKey !== undefined) startShare(state, rec, sharingKey);
      return state;
    }
    case 'IPReleased': {
      const { loadBalancer, ipPool, ip, causationSeq } = event.data;
      const rec = state.loadBalancers.get(loadBalancer);
      if (rec === undefined || rec.pool === null || rec.pool.def.name !== ipPool) return state;
      const pool = rec.pool;
      if (!locate(pool, ip)) return state;
      const i = atRange;
      const offset = atOffset;
      // the address it holds (its record says where)
      if (rec.range !== i || rec.offset !== offset) return state;
      const group = rec.share;
      if (group !== null) {
        // others keep the address: this holder only leaves the group
        if (group.holders.length > 1) {
          leaveShare(state, rec, group);
          return state;
        }
        state.shares.delete(group.id);
        rec.share = null;
      }
      const table = pool.tables[i];
      // the holding becomes a history entry: the record keeps its reference
      table.releaseTo(offset, causationSeq);
      if (typeof offset === 'number') pool.free[i].addOffset(offset);
      else pool.free[i].add(locatedKey(pool));
      pool.allocatedCount--;
      pool.historyCount++;
      state.held--;
      rec.pool = null;
      noteHistory(state, rec, pool, i, offset);
      if (rec.more !== null) releaseMore(state, rec, causationSeq);
      return state;
    }
    case 'HistoryImported': {
      const pool = state.pools.get(event.data.ipPool);
      if (!pool) return state;
      for (const { ip, loadBalancer } of event.data.entries) {
        const key = safeDecode(ip);
        if (key === null) continue;
        const i = rangeIndexOf(pool, key);
        if (i >= 0) importEntry(state, pool, i, key, loadBalancer, event.data.causationSeq);
      }
      return state;
    }
    case 'PoolRejected':
    case 'LBRejected':
    case 'AddressRejected':
      return state;
  }
}
