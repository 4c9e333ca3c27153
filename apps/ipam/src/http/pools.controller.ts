/** /v1/pools: read, apply (JSON or YAML), delete pools; force-release an address. */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  ValidationPipe,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parse as parseYaml } from 'yaml';
import { poolView } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { IPPoolDto } from '../../../../libs/ipam-contract/src/index.js';
import { validateShape } from '../../../../libs/ipam-contract/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG } from '../tokens.js';
import {
  addressParam,
  badRequest,
  checkDepth,
  checkInputSize,
  notFound,
  poolNameParam,
  rejected,
  tooDeep,
} from './http-errors.js';
import { ApiAnswer, ApiProblems, ref } from './openapi.js';
import { pageByName, PageQuery } from './page.js';
import { PublishService } from './publish.service.js';
import { Guarded } from '../auth/auth.guard.js';

const queryPipe = new ValidationPipe({
  transform: true,
  exceptionFactory: (errors) =>
    badRequest(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ')),
});

@Guarded()
@ApiTags('pools')
@Controller('v1')
export class PoolsController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly publisher: PublishService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
  ) {}

  @Get('pools')
  @ApiOperation({ summary: 'Every pool with its status, by name; with ?limit=, in pages' })
  @ApiAnswer(200, 'PoolPage', '{items: [pool with status], continue?}')
  @ApiProblems([400, 'BadRequest: a limit that is not 1 to 1000, or a continue token this list did not give'])
  list(@Query(queryPipe) q: PageQuery) {
    const pools = [...this.allocator.state.pools.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
    const page = pageByName(pools, (p) => p.def.name, q, 'pools');
    return { ...page, items: page.items.map(poolView) };
  }

  @Get('pools/:name')
  @ApiOperation({ summary: 'One pool with its status' })
  @ApiAnswer(200, 'PoolView', 'the pool with its status')
  @ApiProblems(400, [404, 'UnknownPool: no such pool'])
  get(@Param('name') name: string) {
    const pool = this.allocator.state.pools.get(poolNameParam(name));
    if (!pool) throw notFound('UnknownPool', `pool "${name}" does not exist.`);
    return poolView(pool);
  }

  @Put('pools/:name')
  @ApiOperation({
    summary: 'Create or replace a pool (publishes PoolCreated or PoolUpdated and waits for its outcome)',
  })
  @ApiConsumes('application/json', 'application/yaml')
  @ApiBody({
    description: "an IPPool object, as JSON or YAML; metadata.name defaults to the path's name",
    schema: ref('IPPool'),
  })
  @ApiAnswer(201, 'AppliedPool', 'created: the pool with its status (and warnings: unknown fields dropped)')
  @ApiAnswer(200, 'AppliedPool', 'updated (or unchanged): the pool with its status (and warnings)')
  @ApiProblems(400, 413, 415, [422, 'rejected: the ipam.pool.rejected outcome, e.g. RangeOverlap'], 503, 504)
  async put(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    poolNameParam(name);
    let pool: unknown = body;
    if (typeof body === 'string') {
      try {
        pool = parseYaml(body);
      } catch (e) {
        // the YAML parser recurses once per level: only a body far deeper than the limit overflows it
        if (/Maximum call stack size exceeded/.test(String(e))) throw tooDeep();
        throw badRequest(`the body is neither JSON nor YAML: ${(e as Error).message}`);
      }
      checkDepth(pool);
    }
    if (typeof pool !== 'object' || pool === null || Array.isArray(pool)) {
      throw badRequest('the body must be one IPPool object (JSON or YAML)');
    }
    const obj = pool as { metadata?: { name?: unknown } };
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (obj.metadata.name === undefined) obj.metadata.name = name;
    if (obj.metadata.name !== name) {
      throw badRequest(
        `metadata.name "${String(obj.metadata.name)}" does not match the path's name "${name}"`,
      );
    }
    const problem = validateShape(IPPoolDto, obj as Record<string, unknown>);
    if (problem !== null) throw badRequest(problem);
    checkInputSize(obj, this.config.IPAM_MAX_BODY_BYTES);
    const existed = this.allocator.state.pools.has(name);
    const { outcome, seq } = await this.publisher.publishAndWait(
      existed ? 'ipam.pool.updated' : 'ipam.pool.created',
      obj,
    );
    if (outcome.type !== 'PoolAccepted') throw rejected(outcome, seq);
    const current = this.allocator.state.pools.get(name);
    res.status(existed ? 200 : 201);
    // the unknown fields that were dropped (docs/semantics.md), as the outcome names them
    const { warnings } = outcome.data;
    return { ...(current ? poolView(current) : { name }), ...(warnings ? { warnings } : {}) };
  }

  @Delete('pools/:name')
  @ApiOperation({ summary: 'Delete a pool (publishes PoolDeleted and waits for its outcome)' })
  @ApiAnswer(200, 'PoolAccepted', 'deleted: the ipam.pool.accepted outcome')
  @ApiProblems(400, [404, 'UnknownPool: no such pool'], [422, 'rejected, e.g. PoolInUse'], 503, 504)
  async delete(@Param('name') name: string) {
    poolNameParam(name);
    if (!this.allocator.state.pools.has(name))
      throw notFound('UnknownPool', `pool "${name}" does not exist.`);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.pool.deleted', { metadata: { name } });
    if (outcome.type !== 'PoolAccepted') throw rejected(outcome, seq);
    return outcome.data;
  }

  @Post('addresses/:ip/release')
  @HttpCode(200)
  @ApiOperation({ summary: "Operator's force-release of an address (Harvester's manuallyReleaseIP)" })
  @ApiQuery({ name: 'pool', required: false, description: 'release the address in this pool only' })
  @ApiAnswer(200, 'IPReleased', 'released: the ipam.ip.released outcome')
  @ApiProblems(400, [422, 'rejected: the ipam.ip.rejected outcome, e.g. AddressNotAllocated'], 503, 504)
  async release(@Param('ip') ip: string, @Query('pool') pool?: string) {
    const canonical = addressParam(ip);
    if (pool !== undefined) poolNameParam(pool);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.ip.releaserequested', {
      ip: canonical,
      ...(pool !== undefined ? { ipPool: pool } : {}),
    });
    if (outcome.type !== 'IPReleased') throw rejected(outcome, seq);
    return outcome.data;
  }
}
