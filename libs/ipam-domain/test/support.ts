/**
 * Test vocabulary for the domain specifications: wire-object builders, a `World` that steps commands
 * through `handle` (each step is "when command, then event"), and `given(events).when(command)` for
 * pure "given events, when command, then events" checks against `decide`.
 */
import {
  decide,
  ErrorCode,
  fold,
  handle,
  initialState,
  IPAllocatedData,
  IpamCommand,
  IpamEvent,
  IpamState,
  parsePool,
  PoolSpec,
  poolView,
  PoolStatus,
  ScopeTuple,
} from '../src/index.js';

// ---------------------------------------------------------------------------------------------------
// Wire objects

export interface RangeIn {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  exclude?: string[];
}

export type ScopeIn = Partial<ScopeTuple> & { cluster?: string };

export interface SelectorIn {
  priority?: number;
  network?: string;
  scope?: ScopeIn[] | ScopeIn;
}

export const GLOBAL_SCOPE: ScopeTuple[] = [{ project: '*', namespace: '*', guestCluster: '*' }];

/** An IPPool wire object. `ranges` may be a single subnet string. */
export function pool(
  name: string,
  ranges: RangeIn[] | string,
  selector: SelectorIn = {},
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name },
    spec: { ranges: typeof ranges === 'string' ? [{ subnet: ranges }] : ranges, selector, ...extra },
  };
}

/** A global pool (scope all "*") with the given ranges. */
export function globalPool(
  name: string,
  ranges: RangeIn[] | string,
  selector: Omit<SelectorIn, 'scope'> = {},
) {
  return pool(name, ranges, { ...selector, scope: GLOBAL_SCOPE });
}

export interface LbOptions {
  network?: string;
  project?: string;
  namespace?: string;
  cluster?: string;
  workloadType?: 'vm' | 'cluster';
  ipPool?: string;
  ip?: string;
  sharingKey?: string;
  ipFamilies?: string[];
}

/** A LoadBalancer wire object for "namespace/name". */
export function lb(key: string, o: LbOptions = {}) {
  const [namespace, name] = key.split('/');
  const annotations: Record<string, string> = {};
  if (o.network !== undefined) annotations['loadbalancer.harvesterhci.io/network'] = o.network;
  if (o.project !== undefined) annotations['loadbalancer.harvesterhci.io/project'] = o.project;
  if (o.namespace !== undefined) annotations['loadbalancer.harvesterhci.io/namespace'] = o.namespace;
  if (o.cluster !== undefined) annotations['loadbalancer.harvesterhci.io/cluster'] = o.cluster;
  const spec: Record<string, string | string[]> = {};
  if (o.workloadType !== undefined) spec.workloadType = o.workloadType;
  if (o.ipPool !== undefined) spec.ipPool = o.ipPool;
  if (o.ip !== undefined) spec.ip = o.ip;
  if (o.sharingKey !== undefined) spec.sharingKey = o.sharingKey;
  if (o.ipFamilies !== undefined) spec.ipFamilies = o.ipFamilies;
  return { metadata: { namespace, name, annotations }, spec };
}

export function lbRef(key: string) {
  const [namespace, name] = key.split('/');
  return { metadata: { namespace, name } };
}

/** The canonical spec an accepted pool carries in its PoolAccepted event. */
export function canonical(wire: unknown): PoolSpec {
  return parsePool(wire).spec;
}

// ---------------------------------------------------------------------------------------------------
// Commands

export class Commands {
  private seq = 0;
  constructor(start = 0) {
    this.seq = start;
  }
  private meta() {
    this.seq += 1;
    return { seq: this.seq, id: `msg-${this.seq}` };
  }
  get lastSeq(): number {
    return this.seq;
  }
  createPool(p: unknown): IpamCommand {
    return { type: 'CreatePool', data: { pool: p }, meta: this.meta() };
  }
  updatePool(p: unknown): IpamCommand {
    return { type: 'UpdatePool', data: { pool: p }, meta: this.meta() };
  }
  deletePool(name: string): IpamCommand {
    return { type: 'DeletePool', data: { body: { metadata: { name } } }, meta: this.meta() };
  }
  request(key: string, o: LbOptions = {}): IpamCommand {
    return { type: 'RequestLoadBalancer', data: { loadBalancer: lb(key, o) }, meta: this.meta() };
  }
  requestRaw(body: unknown): IpamCommand {
    return { type: 'RequestLoadBalancer', data: { loadBalancer: body }, meta: this.meta() };
  }
  release(key: string): IpamCommand {
    return { type: 'DeleteLoadBalancer', data: { body: lbRef(key) }, meta: this.meta() };
  }
  forceRelease(ip: string, ipPool?: string): IpamCommand {
    return {
      type: 'ForceReleaseAddress',
      data: { body: ipPool === undefined ? { ip } : { ip, ipPool } },
      meta: this.meta(),
    };
  }
  importHistory(ipPool: string, entries: Array<{ ip: string; loadBalancer: string }>): IpamCommand {
    return { type: 'ImportHistory', data: { body: { ipPool, entries } }, meta: this.meta() };
  }
}

// ---------------------------------------------------------------------------------------------------
// A world that steps commands through handle

export class World {
  readonly state: IpamState = initialState();
  readonly log: IpamEvent[] = [];
  readonly cmd = new Commands();

  /** When: handles one command; then: exactly one outcome event, returned. */
  send(command: IpamCommand): IpamEvent {
    const events = handle(command, this.state);
    expect(events).toHaveLength(1);
    this.log.push(...events);
    return events[0];
  }

  /** Creates a pool and asserts it was accepted. */
  mustCreate(p: unknown): this {
    const e = this.send(this.cmd.createPool(p));
    expect(e).toMatchObject({ type: 'PoolAccepted', data: { change: 'created' } });
    return this;
  }

  mustUpdate(p: unknown): this {
    const e = this.send(this.cmd.updatePool(p));
    expect(e).toMatchObject({ type: 'PoolAccepted', data: { change: 'updated' } });
    return this;
  }

  /** The pool rejection's code for a create. */
  createRejected(p: unknown): { code: ErrorCode; reason: string } {
    return poolRejection(this.send(this.cmd.createPool(p)));
  }

  updateRejected(p: unknown): { code: ErrorCode; reason: string } {
    return poolRejection(this.send(this.cmd.updatePool(p)));
  }

  request(key: string, o: LbOptions = {}): IpamEvent {
    return this.send(this.cmd.request(key, o));
  }

  /** Requests and asserts an allocation; returns its data. */
  allocate(key: string, o: LbOptions = {}): IPAllocatedData {
    const e = this.request(key, o);
    if (e.type !== 'IPAllocated')
      throw new Error(`expected IPAllocated for ${key}, got ${JSON.stringify(e)}`);
    return e.data;
  }

  /** Requests and returns the allocated address. */
  ip(key: string, o: LbOptions = {}): string {
    return this.allocate(key, o).ip;
  }

  /** Requests and asserts a rejection; returns its code and reason. */
  requestRejected(key: string, o: LbOptions = {}): { code: ErrorCode; reason: string } {
    const e = this.request(key, o);
    if (e.type !== 'LBRejected') throw new Error(`expected LBRejected for ${key}, got ${JSON.stringify(e)}`);
    expect(e.data.loadBalancer).toBe(key);
    return { code: e.data.code, reason: e.data.reason };
  }

  release(key: string): IpamEvent {
    return this.send(this.cmd.release(key));
  }

  mustRelease(key: string): string {
    const e = this.release(key);
    if (e.type !== 'IPReleased') throw new Error(`expected IPReleased for ${key}, got ${JSON.stringify(e)}`);
    return e.data.ip;
  }

  status(name: string): PoolStatus {
    const p = this.state.pools.get(name);
    if (!p) throw new Error(`no pool ${name}`);
    return poolView(p).status;
  }

  /** Drains the pool picked for the given options: requests fresh LBs until one is rejected. */
  drain(prefix: string, o: LbOptions = {}, limit = 100_000): string[] {
    const ips: string[] = [];
    for (let i = 0; i < limit; i++) {
      const e = this.request(`${prefix}/lb-${i}`, o);
      if (e.type !== 'IPAllocated') {
        expect(e).toMatchObject({ type: 'LBRejected', data: { code: 'PoolExhausted' } });
        return ips;
      }
      ips.push(e.data.ip);
    }
    throw new Error('drain did not finish');
  }
}

export function poolRejection(e: IpamEvent): { code: ErrorCode; reason: string } {
  if (e.type !== 'PoolRejected') throw new Error(`expected PoolRejected, got ${JSON.stringify(e)}`);
  return { code: e.data.code, reason: e.data.reason };
}

// ---------------------------------------------------------------------------------------------------
// Given events, when command, then events

export function given(...events: IpamEvent[]) {
  return {
    when(command: IpamCommand) {
      const state = fold(events);
      const produced = decide(command, state);
      return {
        then(...expected: IpamEvent[]) {
          expect(produced).toEqual(expected);
        },
        events: produced,
      };
    },
  };
}

/** All the addresses a.b.c.x for x in [from, to]. */
export function v4Span(prefix: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (let x = from; x <= to; x++) out.push(`${prefix}.${x}`);
  return out;
}
