/**
 * Input events: validate the body at the boundary and hand one command to the allocator. A body that
 * cannot be read becomes an InvalidEvent rejection like any other decision.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { JetStreamContext, OnStreamMessage } from '../../../../libs/nest-jetstream/src/index.js';
import { IPAM_CONFIG } from '../tokens.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { AllocatorService } from './allocator.service.js';
import { INPUT_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';
import { inputCommand, isInputSubject } from '../../../../libs/ipam-contract/src/index.js';

@Controller()
export class InputEventsController {
  constructor(
    private readonly allocator: AllocatorService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
  ) {}

  @OnStreamMessage(...Object.keys(INPUT_SUBJECTS))
  input(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    if (!isInputSubject(ctx.subject)) return;
    const command = inputCommand(
      ctx.subject,
      data,
      { seq: ctx.seq, id: ctx.info.msgId },
      this.config.IPAM_MAX_BODY_BYTES,
    );
    this.allocator.onInput(command, ctx);
  }
}
