/** /v1/loadbalancers: the current address of a load balancer; request and release one. */
import { Body, Controller, Delete, Get, Inject, Param, Put, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { holdingOf, loadBalancerView } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { LoadBalancerDto } from '../../../../libs/ipam-contract/src/index.js';
import { checkShape } from '../../../../libs/ipam-contract/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG } from '../tokens.js';
import { badRequest, checkInputSize, lbParam, notFound, rejected } from './http-errors.js';
import { ApiAnswer, ApiProblems, ref } from './openapi.js';
import { PublishService } from './publish.service.js';
import { Guarded } from '../auth/auth.guard.js';
import { Requires } from '../auth/roles.js';
import { ApiDryRun, dryRunAnswer, isDryRun } from './dry-run.js';
import { requestActor } from '../auth/request-principal.js';
import type { JetStreamServer } from '../../../../libs/nest-jetstream/src/index.js';
import { JETSTREAM_SERVER } from '../tokens.js';

@Guarded()
@ApiTags('load balancers')
@Controller('v1/loadbalancers')
export class LoadBalancersController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly publisher: PublishService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
    @Inject(JETSTREAM_SERVER) private readonly server: JetStreamServer,
  ) {}

  /** A dry run of `subject`: on the state as of the stream's end when asked (nothing published). */
  private async dryRun(res: Response, subject: 'ipam.lb.requested' | 'ipam.lb.deleted', body: unknown) {
    const last = await this.server.lastSeq().catch(() => null);
    if (last !== null) await this.server.waitForPosition(last, 2000);
    const seq = this.server.position + 1;
    return dryRunAnswer(res, this.allocator.state, subject, body, this.config.IPAM_MAX_BODY_BYTES, seq);
  }

  @Get(':namespace/:name')
  @ApiOperation({ summary: 'The address a load balancer holds' })
  @ApiAnswer(200, 'LoadBalancerView', 'its address, pool, mask and gateway')
  @ApiProblems(400, [404, 'UnknownLoadBalancer: it holds no address'])
  get(@Param('namespace') namespace: string, @Param('name') name: string) {
    const key = lbParam(namespace, name);
    const view = loadBalancerView(this.allocator.state, key);
    if (!view) throw notFound('UnknownLoadBalancer', `load balancer ${key} holds no address.`);
    return view;
  }

  @Put(':namespace/:name')
  @Requires('operator')
  @ApiDryRun()
  @ApiOperation({ summary: 'Request an address (publishes LBRequested and waits for its outcome)' })
  @ApiBody({
    required: false,
    description:
      'a LoadBalancer object (metadata.annotations, spec.ipPool, spec.ip, spec.sharingKey, spec.ipFamilies); ' +
      "its namespace and name are the path's",
    schema: ref('LoadBalancer'),
  })
  @ApiAnswer(200, 'IPAllocated', 'the ipam.ip.allocated outcome')
  @ApiProblems(400, 413, 415, [422, 'rejected: the ipam.lb.rejected outcome, e.g. NoMatchingPool'], 503, 504)
  async request(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
    @Query('dryRun') dryRunParam?: unknown,
  ) {
    lbParam(namespace, name);
    const dryRun = isDryRun(dryRunParam);
    const lb = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as {
      metadata?: Record<string, unknown>;
    };
    lb.metadata = { ...(lb.metadata ?? {}), namespace, name };
    const problem = checkShape(LoadBalancerDto, lb as Record<string, unknown>);
    if (problem !== null) throw badRequest(problem);
    checkInputSize(lb, this.config.IPAM_MAX_BODY_BYTES);
    if (dryRun) return this.dryRun(res, 'ipam.lb.requested', lb);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.lb.requested', lb, requestActor(res));
    if (outcome.type !== 'IPAllocated') throw rejected(outcome, seq);
    return outcome.data;
  }

  @Delete(':namespace/:name')
  @Requires('operator')
  @ApiDryRun()
  @ApiOperation({ summary: 'Release its address (publishes LBDeleted and waits for its outcome)' })
  @ApiAnswer(200, 'IPReleased', 'released: the ipam.ip.released outcome')
  @ApiProblems(
    400,
    [404, 'UnknownLoadBalancer: it holds no address'],
    [422, 'rejected: the ipam.lb.rejected outcome (it released its address meanwhile)'],
    503,
    504,
  )
  async release(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
    @Query('dryRun') dryRunParam?: unknown,
  ) {
    const key = lbParam(namespace, name);
    const dryRun = isDryRun(dryRunParam);
    if (holdingOf(this.allocator.state, key) === undefined)
      throw notFound('UnknownLoadBalancer', `load balancer ${key} holds no address.`);
    if (dryRun) return this.dryRun(res, 'ipam.lb.deleted', { metadata: { namespace, name } });
    const { outcome, seq } = await this.publisher.publishAndWait(
      'ipam.lb.deleted',
      { metadata: { namespace, name } },
      requestActor(res),
    );
    if (outcome.type !== 'IPReleased') throw rejected(outcome, seq);
    return outcome.data;
  }
}
