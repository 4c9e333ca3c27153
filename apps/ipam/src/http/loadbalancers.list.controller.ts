/** GET /v1/loadbalancers: every load balancer that holds an address, by name, filtered and in pages. */
import { Controller, Get, Query, ValidationPipe } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { loadBalancerView, type LoadBalancerView } from '../../../../libs/ipam-domain/src/index.js';
import type { Point } from '../../../../libs/ipam-audit/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { AuditService } from '../audit/audit.service.js';
import { badRequest } from './http-errors.js';
import { ApiProblems, ref } from './openapi.js';
import { pageByName, PageQuery } from './page.js';
import { Guarded } from '../auth/auth.guard.js';

const queryPipe = new ValidationPipe({
  transform: true,
  exceptionFactory: (errors) =>
    badRequest(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ')),
});

export class LoadBalancerListQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'only load balancers of this namespace' })
  @IsOptional()
  @IsString({ message: 'namespace must be one namespace' })
  namespace?: string;

  @ApiPropertyOptional({ description: 'only load balancers holding an address of this pool' })
  @IsOptional()
  @IsString({ message: 'pool must be one pool name' })
  pool?: string;
}

/** A load balancer's address, and since when it holds it (from the audit read model). */
export type LoadBalancerListItem = LoadBalancerView & {
  fromHistory: boolean;
  /** the outcome that allocated it (null when the audit has not read it) */
  since: Point | null;
};

const POINT = {
  type: ['object', 'null'],
  required: ['seq', 'time'],
  properties: {
    seq: { type: 'integer', minimum: 1, description: 'the stream sequence of the ipam.ip.allocated outcome' },
    time: { type: 'string', format: 'date-time' },
  },
};

@Guarded()
@ApiTags('load balancers')
@Controller('v1')
export class LoadBalancerListController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly audit: AuditService,
  ) {}

  @Get('loadbalancers')
  @ApiOperation({
    summary:
      'Every load balancer holding an address, by "namespace/name"; ?namespace= and ?pool= filter; with ?limit=, in pages',
  })
  @ApiResponse({
    status: 200,
    description: '{items: [its address, pool, mask, gateway, fromHistory, since], continue?}',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              items: {
                allOf: [ref('LoadBalancerView')],
                required: ['fromHistory', 'since'],
                properties: {
                  fromHistory: { type: 'boolean', description: 'the address came from the pool history' },
                  since: POINT,
                },
              },
            },
            continue: {
              type: 'string',
              description: 'present while more remain: pass it as ?continue= (with the same query) for the next page',
            },
          },
        },
      },
    },
  })
  @ApiProblems([400, 'BadRequest: a limit that is not 1 to 1000, or a continue token this list did not give'])
  list(@Query(queryPipe) q: LoadBalancerListQuery) {
    const state = this.allocator.state;
    const prefix = q.namespace !== undefined ? `${q.namespace}/` : null;
    const views: LoadBalancerView[] = [];
    for (const key of state.loadBalancers.keys()) {
      if (prefix !== null && !key.startsWith(prefix)) continue;
      const view = loadBalancerView(state, key);
      if (view === null || (q.pool !== undefined && view.ipPool !== q.pool)) continue;
      views.push(view);
    }
    views.sort((a, b) => (a.loadBalancer < b.loadBalancer ? -1 : a.loadBalancer > b.loadBalancer ? 1 : 0));
    const page = pageByName(views, (v) => v.loadBalancer, q, 'loadbalancers');
    return { ...page, items: page.items.map((v) => this.withSince(v)) };
  }

  private withSince(view: LoadBalancerView): LoadBalancerListItem {
    const entries = this.audit.projection.loadBalancer(view.loadBalancer);
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (e.kind === 'held' && e.to === null && e.ip === view.ip) {
        return { ...view, fromHistory: e.fromHistory, since: { seq: e.from.seq, time: e.from.time } };
      }
    }
    return { ...view, fromHistory: false, since: null };
  }
}
