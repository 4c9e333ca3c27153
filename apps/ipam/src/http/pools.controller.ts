/** /v1/pools: read, apply (JSON or YAML), delete pools; force-release an address. */
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parse as parseYaml } from 'yaml';
import { poolView, poolViews } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { IPPoolDto } from '../../../../libs/ipam-contract/src/index.js';
import { validateShape } from '../../../../libs/ipam-contract/src/index.js';
import { TOO_LARGE_DOC } from './body-errors.js';
import {
  addressParam,
  BAD_REQUEST_DOC,
  badRequest,
  notFound,
  poolNameParam,
  rejected,
} from './http-errors.js';
import { OUTCOME_TIMEOUT_DOC, PublishService, UNAVAILABLE_DOC } from './publish.service.js';

@ApiTags('pools')
@Controller('v1')
export class PoolsController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly publisher: PublishService,
  ) {}

  @Get('pools')
  @ApiOperation({ summary: 'Every pool with its status' })
  @ApiResponse({ status: 200, description: '{items: [pool with status]}' })
  list() {
    return { items: poolViews(this.allocator.state) };
  }

  @Get('pools/:name')
  @ApiOperation({ summary: 'One pool with its status' })
  @ApiResponse({ status: 200, description: 'the pool with its status' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 404, description: 'no such pool' })
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
  @ApiBody({ description: 'an IPPool object (shared/spec/semantics.md section 1), as JSON or YAML' })
  @ApiResponse({ status: 201, description: 'created' })
  @ApiResponse({ status: 200, description: 'updated (or unchanged)' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 413, description: TOO_LARGE_DOC })
  @ApiResponse({ status: 422, description: 'rejected: {code, reason}' })
  @ApiResponse({ status: 503, description: UNAVAILABLE_DOC })
  @ApiResponse({ status: 504, description: OUTCOME_TIMEOUT_DOC })
  async put(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    poolNameParam(name);
    let pool: unknown = body;
    if (typeof body === 'string') {
      try {
        pool = parseYaml(body);
      } catch (e) {
        throw badRequest(`the body is neither JSON nor YAML: ${(e as Error).message}`);
      }
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
    const existed = this.allocator.state.pools.has(name);
    const { outcome, seq } = await this.publisher.publishAndWait(
      existed ? 'ipam.pool.updated' : 'ipam.pool.created',
      obj,
    );
    if (outcome.type !== 'PoolAccepted') throw rejected({ ...(outcome.data as object), seq });
    const current = this.allocator.state.pools.get(name);
    res.status(existed ? 200 : 201);
    // the unknown fields that were dropped (docs/semantics.md), as the outcome names them
    const { warnings } = outcome.data;
    return { ...(current ? poolView(current) : { name }), ...(warnings ? { warnings } : {}) };
  }

  @Delete('pools/:name')
  @ApiOperation({ summary: 'Delete a pool (publishes PoolDeleted and waits for its outcome)' })
  @ApiResponse({ status: 200, description: 'deleted: the ipam.pool.accepted outcome' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 404, description: 'no such pool' })
  @ApiResponse({ status: 422, description: 'rejected, e.g. PoolInUse' })
  @ApiResponse({ status: 503, description: UNAVAILABLE_DOC })
  @ApiResponse({ status: 504, description: OUTCOME_TIMEOUT_DOC })
  async delete(@Param('name') name: string) {
    poolNameParam(name);
    if (!this.allocator.state.pools.has(name))
      throw notFound('UnknownPool', `pool "${name}" does not exist.`);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.pool.deleted', { metadata: { name } });
    if (outcome.type !== 'PoolAccepted') throw rejected({ ...(outcome.data as object), seq });
    return outcome.data;
  }

  @Post('addresses/:ip/release')
  @HttpCode(200)
  @ApiOperation({ summary: "Operator's force-release of an address (Harvester's manuallyReleaseIP)" })
  @ApiResponse({ status: 200, description: 'released: the ipam.ip.released outcome' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 422, description: 'rejected, e.g. AddressNotAllocated' })
  @ApiResponse({ status: 503, description: UNAVAILABLE_DOC })
  @ApiResponse({ status: 504, description: OUTCOME_TIMEOUT_DOC })
  async release(@Param('ip') ip: string, @Query('pool') pool?: string) {
    const canonical = addressParam(ip);
    if (pool !== undefined) poolNameParam(pool);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.ip.releaserequested', {
      ip: canonical,
      ...(pool !== undefined ? { ipPool: pool } : {}),
    });
    if (outcome.type !== 'IPReleased') throw rejected({ ...(outcome.data as object), seq });
    return outcome.data;
  }
}
