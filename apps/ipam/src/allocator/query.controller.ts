/** Queries over NATS request/reply (contract: ipam.query.*), answered from the folded state. */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AddressSyntaxError,
  formatAddress,
  loadBalancerView,
  parseAddress,
  poolView,
  type PoolState,
} from '../../../../libs/ipam-domain/src/index.js';
import { BusyError, Limiter } from '../http/limiter.js';
import { MAX_PAGE_LIMIT, pageByName, type Page, type PageQuery } from '../http/page.js';
import { ApiProblem } from '../http/problem.js';
import type { AsOf } from '../../../../libs/ipam-audit/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { parseJsonBody } from '../../../../libs/ipam-contract/src/index.js';
import { AllocatorService } from './allocator.service.js';
import { QUERY_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';
import type { LoadBalancerView } from '../../../../libs/ipam-domain/src/index.js';
import { IPAM_CONFIG } from '../tokens.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { whatIf } from './what-if.js';

const MAX_QUERY_BYTES = 4096;

function invalid(reason: string) {
  return { error: { code: 'InvalidRequest', reason } };
}

function field(body: Record<string, unknown>, key: string): string | null {
  const v = body[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

@Controller()
export class QueryController {
  // memory is bounded by the lists built at once (2); a waiting request costs next to nothing, so many
  // may wait (a burst of dashboards or scripts), each until its own request times out
  private readonly wholeLists = new Limiter('lists of every pool', 2, 256);

  constructor(
    private readonly allocator: AllocatorService,
    private readonly audit: AuditService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
  ) {}

  /**
   * {"subject", "body"} -> {"subject", "body", "affected"}: the outcome the input would get now, decided
   * on the current state and never stored (causationSeq the sequence it would get if published now,
   * causationId null). A request may be as large
   * as an input (IPAM_MAX_BODY_BYTES) and 1 KiB more.
   */
  @MessagePattern(QUERY_SUBJECTS.whatif)
  whatif(@Payload() data: Uint8Array) {
    const usage = 'send {"subject": "ipam.pool.updated", "body": {...}} (an input as it would be published)';
    const body = parseJsonBody(data, this.config.IPAM_MAX_BODY_BYTES + 1024);
    if (!body.ok) return invalid(`${body.reason}; ${usage}`);
    const subject = field(body.value, 'subject');
    if (subject === null || !('body' in body.value)) return invalid(`subject and body are required; ${usage}`);
    const seq = this.allocator.readSeq + 1;
    const answer = whatIf(this.allocator.state, subject, body.value.body, this.config.IPAM_MAX_BODY_BYTES, seq);
    if (answer === null) return invalid(`${subject} is not an input subject; ${usage}`);
    const { event: _event, ...reply } = answer;
    return reply;
  }

  /**
   * {} -> every pool; {"limit"?: 1-1000, "continue"?: token} -> a page, and `continue` while more remain.
   * A page builds the status of its own pools only; the whole list is built by two requests at a time
   * at most (four more wait; beyond, `Unavailable`), a pool at a time with decisions let run between.
   */
  @MessagePattern(QUERY_SUBJECTS.pools)
  async pools(@Payload() data: Uint8Array) {
    let q: PageQuery = {};
    // the contract's request is {} and any body has always got the whole list: only an object that
    // asks for a page (limit, continue) is read
    const body = data.length > 0 ? parseJsonBody(data, MAX_QUERY_BYTES) : null;
    if (body?.ok) {
      const { limit, continue: token } = body.value;
      if (
        limit !== undefined &&
        (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
      ) {
        return invalid(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
      }
      if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
        return invalid('continue must be the token of a previous answer');
      }
      q = { limit: limit as number | undefined, continue: token as string | undefined };
    }
    const pools = [...this.allocator.state.pools.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
    let page: Page<PoolState>;
    try {
      page = pageByName(pools, (p) => p.def.name, q, 'pools');
    } catch (e) {
      if (e instanceof ApiProblem) return invalid(e.detail);
      throw e;
    }
    if (q.limit !== undefined) return { ...page, items: page.items.map(poolView) };
    try {
      return await this.wholeLists.run(async () => {
        const items = [];
        for (const pool of page.items) {
          items.push(poolView(pool));
          await new Promise((resolve) => setImmediate(resolve));
        }
        return { items };
      });
    } catch (e) {
      if (e instanceof BusyError)
        return { error: { code: 'Unavailable', reason: `${e.message}; or ask for pages with "limit"` } };
      throw e;
    }
  }

  @MessagePattern(QUERY_SUBJECTS.pool)
  pool(@Payload() data: Uint8Array) {
    const body = parseJsonBody(data, MAX_QUERY_BYTES);
    if (!body.ok) return invalid(`${body.reason}; send {"name": "..."}`);
    const name = field(body.value, 'name');
    if (name === null) return invalid('name is required: send {"name": "..."}');
    const pool = this.allocator.state.pools.get(name);
    if (!pool) return { error: { code: 'UnknownPool', reason: `pool "${name}" does not exist.` } };
    return poolView(pool);
  }

  @MessagePattern(QUERY_SUBJECTS.lb)
  lb(@Payload() data: Uint8Array) {
    const body = parseJsonBody(data, MAX_QUERY_BYTES);
    if (!body.ok) return invalid(`${body.reason}; send {"namespace": "...", "name": "..."}`);
    const namespace = field(body.value, 'namespace');
    const name = field(body.value, 'name');
    if (namespace === null || name === null) {
      return invalid('namespace and name are required: send {"namespace": "...", "name": "..."}');
    }
    const view = loadBalancerView(this.allocator.state, `${namespace}/${name}`);
    if (!view) {
      return {
        error: {
          code: 'UnknownLoadBalancer',
          reason: `load balancer ${namespace}/${name} holds no address.`,
        },
      };
    }
    return view;
  }

  /**
   * {"namespace"?, "pool"?, "limit"?: 1-1000, "continue"?} -> {"items": [LoadBalancerView, ...] by
   * "namespace/name", "continue"?}: the load balancers holding an address (GET /v1/loadbalancers's list).
   */
  @MessagePattern(QUERY_SUBJECTS.lbs)
  lbs(@Payload() data: Uint8Array) {
    const usage = 'send {"namespace"?: "...", "pool"?: "...", "limit"?: n, "continue"?: "token"}';
    const body = data.length > 0 ? parseJsonBody(data, MAX_QUERY_BYTES) : { ok: true as const, value: {} };
    if (!body.ok) return invalid(`${body.reason}; ${usage}`);
    const { namespace, pool, limit, continue: token } = body.value as Record<string, unknown>;
    for (const [key, v] of [
      ['namespace', namespace],
      ['pool', pool],
      ['continue', token],
    ] as const) {
      if (v !== undefined && (typeof v !== 'string' || v.length === 0))
        return invalid(`${key} must be a non-empty text; ${usage}`);
    }
    if (
      limit !== undefined &&
      (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    ) {
      return invalid(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
    }
    const state = this.allocator.state;
    const prefix = typeof namespace === 'string' ? `${namespace}/` : null;
    const views: LoadBalancerView[] = [];
    for (const key of state.loadBalancers.keys()) {
      if (prefix !== null && !key.startsWith(prefix)) continue;
      const view = loadBalancerView(state, key);
      if (view === null || (pool !== undefined && view.ipPool !== pool)) continue;
      views.push(view);
    }
    views.sort((a, b) => (a.loadBalancer < b.loadBalancer ? -1 : a.loadBalancer > b.loadBalancer ? 1 : 0));
    try {
      const q = { limit: limit as number | undefined, continue: token as string | undefined };
      return pageByName(views, (v) => v.loadBalancer, q, 'loadbalancers');
    } catch (e) {
      if (e instanceof ApiProblem) return invalid(e.detail);
      throw e;
    }
  }

  /** {"ip", "at"?: RFC 3339, "seq"?: number} -> {"ip", "holders": [...]} */
  @MessagePattern(QUERY_SUBJECTS.auditAddress)
  auditAddress(@Payload() data: Uint8Array) {
    const body = parseJsonBody(data, MAX_QUERY_BYTES);
    if (!body.ok) return invalid(`${body.reason}; send {"ip": "...", "at"?: "RFC 3339 time", "seq"?: n}`);
    const ipText = field(body.value, 'ip');
    if (ipText === null) return invalid('ip is required');
    let ip: string;
    try {
      ip = formatAddress(parseAddress(ipText));
    } catch (e) {
      if (e instanceof AddressSyntaxError) return invalid(e.message);
      throw e;
    }
    const at = asOfOf(body.value);
    if ('error' in at) return at;
    const limit = limitOf(body.value);
    if (typeof limit !== 'number') return limit;
    const all = this.audit.projection.address(ip, at.value);
    return { ip, total: all.length, holders: all.slice(-limit) };
  }

  /** {"namespace", "name", "at"?, "seq"?} -> {"loadBalancer", "entries": [...]} */
  @MessagePattern(QUERY_SUBJECTS.auditLoadBalancer)
  auditLoadBalancer(@Payload() data: Uint8Array) {
    const body = parseJsonBody(data, MAX_QUERY_BYTES);
    if (!body.ok) return invalid(`${body.reason}; send {"namespace": "...", "name": "..."}`);
    const namespace = field(body.value, 'namespace');
    const name = field(body.value, 'name');
    if (namespace === null || name === null) return invalid('namespace and name are required');
    const at = asOfOf(body.value);
    if ('error' in at) return at;
    const limit = limitOf(body.value);
    if (typeof limit !== 'number') return limit;
    const key = `${namespace}/${name}`;
    const all = this.audit.projection.loadBalancer(key, at.value);
    return { loadBalancer: key, total: all.length, entries: all.slice(-limit) };
  }
}

/** How many of the most recent timeline entries to return: "limit", default 1000, at most 5000. */
function limitOf(body: Record<string, unknown>): number | ReturnType<typeof invalid> {
  const v = body.limit ?? 1000;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 5000) {
    return invalid('limit must be a whole number from 1 to 5000 (the most recent entries are returned)');
  }
  return v;
}

function asOfOf(body: Record<string, unknown>): { value: AsOf | undefined } | ReturnType<typeof invalid> {
  const { at, seq } = body;
  if (at !== undefined && seq !== undefined) return invalid('give either at or seq, not both');
  if (at !== undefined) {
    const t = typeof at === 'string' ? Date.parse(at) : NaN;
    if (Number.isNaN(t)) return invalid('at must be an RFC 3339 time such as 2026-11-24T14:05:00Z');
    return { value: { time: t } };
  }
  if (seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1)
      return invalid('seq must be a stream sequence (>= 1)');
    return { value: { seq } };
  }
  return { value: undefined };
}
