/** Queries over NATS request/reply (contract: ipam.query.*), answered from the folded state. */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { loadBalancerView, poolView, poolViews } from '../../../../libs/ipam-domain/src/index.js';
import { parseJsonBody } from '../dto/validate-body.js';
import { AllocatorService } from './allocator.service.js';
import { QUERY_SUBJECTS } from './subjects.js';

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
  constructor(private readonly allocator: AllocatorService) {}

  @MessagePattern(QUERY_SUBJECTS.pools)
  pools() {
    return { items: poolViews(this.allocator.state) };
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
        error: { code: 'UnknownLoadBalancer', reason: `load balancer ${namespace}/${name} holds no address.` },
      };
    }
    return view;
  }
}
