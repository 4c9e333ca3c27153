/** /v1/audit: who held an address, what a load balancer held, a pool as it was. */
import { Controller, Get, Param, Query, Res, ValidationPipe } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOperation, ApiTags, IntersectionType } from '@nestjs/swagger';
import { poolView } from '../../../../libs/ipam-domain/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { AsOfQuery, asOf } from './as-of.query.js';
import { addressParam, badRequest, lbParam, notFound, poolNameParam } from './http-errors.js';
import { ApiAnswer, ApiProblems } from './openapi.js';
import { pageByOffset, PageQuery } from './page.js';
import { Guarded } from '../auth/auth.guard.js';
import { Limiter } from './limiter.js';

/**
 * As-of pool reads replay the stream from its start (a million events: seconds of CPU and memory for
 * a whole state): one at a time, four more waiting, 503 with Retry-After beyond.
 */
export const AS_OF_RUNNING = 1;
export const AS_OF_QUEUED = 4;

const queryPipe = new ValidationPipe({
  transform: true,
  exceptionFactory: (errors) =>
    badRequest(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ')),
});

/** ?at= or ?seq=, and ?limit= / ?continue= for a timeline in pages */
class TimelineQuery extends IntersectionType(AsOfQuery, PageQuery) {}

const BAD_TIMELINE_QUERY: [number, string] = [
  400,
  'BadRequest: a bad address or name, a bad ?at= or ?seq= (or both), a limit that is not 1 to 1000, or a continue token this timeline did not give',
];

@Guarded()
@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  private readonly asOfReads = new Limiter('as-of pool reads', AS_OF_RUNNING, AS_OF_QUEUED, 2);

  constructor(private readonly audit: AuditService) {}

  @Get('addresses/:ip')
  @ApiOperation({
    summary: 'Every holder of an address (with ?at= or ?seq=: the holder then); in pages with ?limit=',
  })
  @ApiAnswer(
    200,
    'AddressTimelinePage',
    '{ip, total, holders, continue?}: no holders when nobody ever held it',
  )
  @ApiProblems(BAD_TIMELINE_QUERY)
  address(@Param('ip') ip: string, @Query(queryPipe) q: TimelineQuery) {
    const canonical = addressParam(ip);
    const all = this.audit.projection.address(canonical, asOf(q));
    const page = pageByOffset(all, q, `address ${canonical}`);
    return {
      ip: canonical,
      ...(q.at ? { at: q.at } : {}),
      ...(q.seq ? { seq: q.seq } : {}),
      total: all.length,
      holders: page.items,
      ...(page.continue !== undefined ? { continue: page.continue } : {}),
    };
  }

  @Get('loadbalancers/:namespace/:name')
  @ApiOperation({
    summary:
      'Every address a load balancer held and every rejection it got (up to ?at= or ?seq=); in pages with ?limit=',
  })
  @ApiAnswer(
    200,
    'LoadBalancerTimelinePage',
    '{loadBalancer, total, entries, continue?}: no entries for one never seen',
  )
  @ApiProblems(BAD_TIMELINE_QUERY)
  loadBalancer(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Query(queryPipe) q: TimelineQuery,
  ) {
    const key = lbParam(namespace, name);
    const all = this.audit.projection.loadBalancer(key, asOf(q));
    const page = pageByOffset(all, q, `lb ${key}`);
    return {
      loadBalancer: key,
      total: all.length,
      entries: page.items,
      ...(page.continue !== undefined ? { continue: page.continue } : {}),
    };
  }

  @Get('pools/:name')
  @ApiOperation({ summary: 'A pool with its full status as of ?at= or ?seq= (replayed from the stream)' })
  @ApiAnswer(200, 'PoolAsOf', 'the pool with its status, and asOfSeq')
  @ApiProblems(
    400,
    [404, 'UnknownPool: the pool did not exist then'],
    [
      503,
      `Unavailable: ${AS_OF_RUNNING} as-of read(s) run and ${AS_OF_QUEUED} wait already; Retry-After says when to ask again`,
    ],
  )
  async pool(
    @Param('name') name: string,
    @Query(queryPipe) q: AsOfQuery,
    @Res({ passthrough: true }) res: Response,
  ) {
    poolNameParam(name);
    const { state, seq } = await this.asOfReads.http(res, () => this.audit.stateAsOf(asOf(q) ?? {}));
    const pool = state.pools.get(name);
    if (!pool) throw notFound('UnknownPool', `pool "${name}" did not exist as of seq ${seq}.`);
    return { asOfSeq: seq, ...poolView(pool) };
  }
}
