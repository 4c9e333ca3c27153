/**
 * evolve(state, event) -> state: applies one outcome. It mutates the state in place and returns it, so
 * that folding a long log copies nothing (decide never writes, so sharing is safe). It never throws:
 * an event that does not fit the state (a pool it does not know, an address outside the ranges) is
 * skipped, since the log is the record and the state only reflects it.
 */
import { canonicalText, decodeAddress } from './address.js';
import { definitionFromSpec } from './pool-spec.js';
import type { IpamEvent } from './pool.events.js';
import { allocatedKeys, buildFreeSets, IpamState, PoolState, rangeIndexOf } from './pool.state.js';

function unindex(pool: PoolState, loadBalancer: string, ip: string): void {
  const list = pool.historyByLb.get(loadBalancer);
  if (!list) return;
  const i = list.indexOf(ip);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) pool.historyByLb.delete(loadBalancer);
}

function addHistory(pool: PoolState, ip: string, loadBalancer: string, seq: number): void {
  const previous = pool.history.get(ip);
  if (previous) unindex(pool, previous.loadBalancer, ip);
  pool.history.set(ip, { loadBalancer, seq });
  const list = pool.historyByLb.get(loadBalancer);
  if (list) list.push(ip);
  else pool.historyByLb.set(loadBalancer, [ip]);
}

function removeHistory(pool: PoolState, ip: string): void {
  const previous = pool.history.get(ip);
  if (!previous) return;
  pool.history.delete(ip);
  unindex(pool, previous.loadBalancer, ip);
}

function safeDecode(text: string): bigint | null {
  try {
    return decodeAddress(text);
  } catch {
    return null;
  }
}

export function evolve(state: IpamState, event: IpamEvent): IpamState {
  switch (event.type) {
    case 'PoolAccepted': {
      const { name, change, spec } = event.data;
      if (change === 'deleted') {
        state.pools.delete(name);
        return state;
      }
      if (!spec) return state;
      const current = state.pools.get(name);
      if (change === 'created' && current) return state; // an identical re-create: no effect
      const def = definitionFromSpec(name, spec);
      if (!def) return state;
      if (!current) {
        state.pools.set(name, {
          def,
          free: buildFreeSets(def, []),
          allocated: new Map(),
          history: new Map(),
          historyByLb: new Map(),
          lastAllocated: null,
        });
        return state;
      }
      current.def = def;
      for (const [text, lb] of [...current.allocated]) {
        if (rangeIndexOf(current, decodeAddress(text)) < 0) {
          // cannot happen for an accepted update (rule 7); keep the fold total anyway
          current.allocated.delete(text);
          state.holdings.delete(lb);
        }
      }
      current.free = buildFreeSets(def, allocatedKeys(current));
      for (const text of [...current.history.keys()]) {
        if (rangeIndexOf(current, decodeAddress(text)) < 0) removeHistory(current, text);
      }
      return state;
    }
    case 'IPAllocated': {
      const { loadBalancer, ipPool, ip } = event.data;
      // a repeated request, answered with the address it already holds
      if (state.holdings.has(loadBalancer)) return state;
      const pool = state.pools.get(ipPool);
      const key = safeDecode(ip);
      if (!pool || key === null) return state;
      const i = rangeIndexOf(pool, key);
      if (i < 0 || !pool.free[i].delete(key)) return state;
      const text = canonicalText(ip, key);
      pool.allocated.set(text, loadBalancer);
      removeHistory(pool, text);
      pool.lastAllocated = key;
      state.holdings.set(loadBalancer, { pool: ipPool, ip: key });
      return state;
    }
    case 'IPReleased': {
      const { loadBalancer, ipPool, ip, causationSeq } = event.data;
      const pool = state.pools.get(ipPool);
      const key = safeDecode(ip);
      if (!pool || key === null) return state;
      const text = canonicalText(ip, key);
      if (pool.allocated.get(text) !== loadBalancer) return state;
      pool.allocated.delete(text);
      state.holdings.delete(loadBalancer);
      const i = rangeIndexOf(pool, key);
      if (i >= 0) pool.free[i].add(key);
      // an allocated address has no history entry (allocation removes it): no previous holder to unindex
      pool.history.set(text, { loadBalancer, seq: causationSeq });
      const list = pool.historyByLb.get(loadBalancer);
      if (list) list.push(text);
      else pool.historyByLb.set(loadBalancer, [text]);
      return state;
    }
    case 'HistoryImported': {
      const pool = state.pools.get(event.data.ipPool);
      if (!pool) return state;
      for (const { ip, loadBalancer } of event.data.entries) {
        const key = safeDecode(ip);
        if (key === null) continue;
        const text = canonicalText(ip, key);
        if (!pool.allocated.has(text) && rangeIndexOf(pool, key) >= 0) {
          addHistory(pool, text, loadBalancer, event.data.causationSeq);
        }
      }
      return state;
    }
    case 'PoolRejected':
    case 'LBRejected':
    case 'AddressRejected':
      return state;
  }
}
