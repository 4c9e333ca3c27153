/** /v1/audit: who held an address, what a load balancer held, a pool as it was. */
import { Controller, Get, Param, Query, ValidationPipe } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { poolView } from '../../../../libs/ipam-domain/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { AsOfQuery, asOf } from './as-of.query.js';
import {
  addressParam,
  BAD_REQUEST_DOC,
  badRequest,
  lbParam,
  notFound,
  poolNameParam,
} from './http-errors.js';

const queryPipe = new ValidationPipe({
  transform: true,
  exceptionFactory: (errors) =>
    badRequest(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ')),
});

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('addresses/:ip')
  @ApiOperation({ summary: 'Every holder of an address (with ?at= or ?seq=: the holder then)' })
  @ApiResponse({ status: 200, description: '{ip, holders}: empty when nobody ever held it' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  address(@Param('ip') ip: string, @Query(queryPipe) q: AsOfQuery) {
    const canonical = addressParam(ip);
    const at = asOf(q);
    return {
      ip: canonical,
      ...(q.at ? { at: q.at } : {}),
      ...(q.seq ? { seq: q.seq } : {}),
      holders: this.audit.projection.address(canonical, at),
    };
  }

  @Get('loadbalancers/:namespace/:name')
  @ApiOperation({
    summary: 'Every address a load balancer held and every rejection it got (up to ?at= or ?seq=)',
  })
  @ApiResponse({ status: 200, description: '{loadBalancer, entries}: empty for one never seen' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  loadBalancer(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Query(queryPipe) q: AsOfQuery,
  ) {
    const key = lbParam(namespace, name);
    return { loadBalancer: key, entries: this.audit.projection.loadBalancer(key, asOf(q)) };
  }

  @Get('pools/:name')
  @ApiOperation({ summary: 'A pool with its full status as of ?at= or ?seq= (replayed from the stream)' })
  @ApiResponse({ status: 200, description: 'the pool with its status, and asOfSeq' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 404, description: 'the pool did not exist then' })
  async pool(@Param('name') name: string, @Query(queryPipe) q: AsOfQuery) {
    poolNameParam(name);
    const { state, seq } = await this.audit.stateAsOf(asOf(q) ?? {});
    const pool = state.pools.get(name);
    if (!pool) throw notFound('UnknownPool', `pool "${name}" did not exist as of seq ${seq}.`);
    return { asOfSeq: seq, ...poolView(pool) };
  }
}
