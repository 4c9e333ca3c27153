/**
 * Input events: validate the body at the boundary and hand one command to the allocator. A body that
 * cannot be read becomes an InvalidEvent rejection like any other decision.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { IpamCommand } from '../../../../libs/ipam-domain/src/index.js';
import { JetStreamContext, OnStreamMessage } from '../../../../libs/nest-jetstream/src/index.js';
import { IPAM_CONFIG } from '../tokens.js';
import type { IpamEnv } from '../config/ipam.config.js';
import {
  ImportHistoryDto,
  IPPoolDto,
  LoadBalancerDto,
  LoadBalancerRefDto,
  PoolRefDto,
  ReleaseAddressDto,
} from '../dto/input.dto.js';
import { readBody } from '../dto/validate-body.js';
import { AllocatorService } from './allocator.service.js';
import { INPUT_SUBJECTS, InputSubject } from './subjects.js';

type Dto = new () => object;

function nameFor(subject: InputSubject, value: unknown): string {
  const v = value as { metadata?: { name?: unknown; namespace?: unknown }; ipPool?: unknown; ip?: unknown } | null;
  if (subject.startsWith('ipam.pool.')) {
    const n = v?.metadata?.name ?? v?.ipPool;
    return typeof n === 'string' ? n : '';
  }
  const ns = v?.metadata?.namespace;
  const name = v?.metadata?.name;
  if (typeof ns === 'string' && typeof name === 'string') return `${ns}/${name}`;
  return '';
}

@Controller()
export class InputEventsController {
  constructor(
    private readonly allocator: AllocatorService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
  ) {}

  private handle(subject: InputSubject, dto: Dto, data: Uint8Array, ctx: JetStreamContext): void {
    const meta = { seq: ctx.seq, id: ctx.info.msgId };
    const body = readBody(data, this.config.IPAM_MAX_BODY_BYTES, dto);
    let command: IpamCommand;
    if (!body.ok) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(new TextDecoder().decode(data));
      } catch {
        parsed = null;
      }
      command = {
        type: 'RejectInput',
        data: {
          target: subject.startsWith('ipam.pool.') ? 'pool' : 'lb',
          name: data.length <= this.config.IPAM_MAX_BODY_BYTES ? nameFor(subject, parsed) : '',
          reason: `${subject}: ${body.reason}.`,
        },
        meta,
      };
    } else {
      const type = INPUT_SUBJECTS[subject];
      const value = body.value;
      switch (type) {
        case 'CreatePool':
        case 'UpdatePool':
          command = { type, data: { pool: value }, meta };
          break;
        case 'RequestLoadBalancer':
          command = { type, data: { loadBalancer: value }, meta };
          break;
        default:
          command = { type, data: { body: value }, meta };
      }
    }
    this.allocator.onInput(command, ctx);
  }

  @OnStreamMessage('ipam.pool.created')
  poolCreated(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.pool.created', IPPoolDto, data, ctx);
  }

  @OnStreamMessage('ipam.pool.updated')
  poolUpdated(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.pool.updated', IPPoolDto, data, ctx);
  }

  @OnStreamMessage('ipam.pool.deleted')
  poolDeleted(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.pool.deleted', PoolRefDto, data, ctx);
  }

  @OnStreamMessage('ipam.lb.requested')
  lbRequested(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.lb.requested', LoadBalancerDto, data, ctx);
  }

  @OnStreamMessage('ipam.lb.deleted')
  lbDeleted(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.lb.deleted', LoadBalancerRefDto, data, ctx);
  }

  @OnStreamMessage('ipam.ip.releaserequested')
  releaseRequested(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.ip.releaserequested', ReleaseAddressDto, data, ctx);
  }

  @OnStreamMessage('ipam.pool.historyimported')
  historyImported(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.handle('ipam.pool.historyimported', ImportHistoryDto, data, ctx);
  }
}
