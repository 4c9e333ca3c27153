/** /v1/loadbalancers: the current address of a load balancer; request and release one. */
import { Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { holdingOf, loadBalancerView } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { LoadBalancerDto } from '../../../../libs/ipam-contract/src/index.js';
import { validateShape } from '../../../../libs/ipam-contract/src/index.js';
import { TOO_LARGE_DOC } from './body-errors.js';
import { BAD_REQUEST_DOC, badRequest, lbParam, notFound, rejected } from './http-errors.js';
import { OUTCOME_TIMEOUT_DOC, PublishService, UNAVAILABLE_DOC } from './publish.service.js';

@ApiTags('load balancers')
@Controller('v1/loadbalancers')
export class LoadBalancersController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly publisher: PublishService,
  ) {}

  @Get(':namespace/:name')
  @ApiOperation({ summary: 'The address a load balancer holds' })
  @ApiResponse({ status: 200, description: 'its address, pool, mask and gateway' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 404, description: 'it holds no address' })
  get(@Param('namespace') namespace: string, @Param('name') name: string) {
    const key = lbParam(namespace, name);
    const view = loadBalancerView(this.allocator.state, key);
    if (!view) throw notFound('UnknownLoadBalancer', `load balancer ${key} holds no address.`);
    return view;
  }

  @Put(':namespace/:name')
  @ApiOperation({ summary: 'Request an address (publishes LBRequested and waits for its outcome)' })
  @ApiBody({
    required: false,
    description: 'a LoadBalancer object (annotations, spec.ipPool, spec.ip); metadata is taken from the path',
  })
  @ApiResponse({ status: 200, description: 'the ipam.ip.allocated outcome' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 413, description: TOO_LARGE_DOC })
  @ApiResponse({ status: 422, description: 'rejected: {code, reason}' })
  @ApiResponse({ status: 503, description: UNAVAILABLE_DOC })
  @ApiResponse({ status: 504, description: OUTCOME_TIMEOUT_DOC })
  async request(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body: unknown) {
    lbParam(namespace, name);
    const lb = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as {
      metadata?: Record<string, unknown>;
    };
    lb.metadata = { ...(lb.metadata ?? {}), namespace, name };
    const problem = validateShape(LoadBalancerDto, lb as Record<string, unknown>);
    if (problem !== null) throw badRequest(problem);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.lb.requested', lb);
    if (outcome.type !== 'IPAllocated') throw rejected({ ...(outcome.data as object), seq });
    return outcome.data;
  }

  @Delete(':namespace/:name')
  @ApiOperation({ summary: 'Release its address (publishes LBDeleted and waits for its outcome)' })
  @ApiResponse({ status: 200, description: 'released: the ipam.ip.released outcome' })
  @ApiResponse({ status: 400, description: BAD_REQUEST_DOC })
  @ApiResponse({ status: 404, description: 'it holds no address' })
  @ApiResponse({ status: 503, description: UNAVAILABLE_DOC })
  @ApiResponse({ status: 504, description: OUTCOME_TIMEOUT_DOC })
  async release(@Param('namespace') namespace: string, @Param('name') name: string) {
    const key = lbParam(namespace, name);
    if (holdingOf(this.allocator.state, key) === undefined)
      throw notFound('UnknownLoadBalancer', `load balancer ${key} holds no address.`);
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.lb.deleted', {
      metadata: { namespace, name },
    });
    if (outcome.type !== 'IPReleased') throw rejected({ ...(outcome.data as object), seq });
    return outcome.data;
  }
}
