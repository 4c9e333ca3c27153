/** Outcome events read back from the stream: judged by the allocator's in-order fold. */
import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { JetStreamContext, OnStreamMessage } from '../../../../libs/nest-jetstream/src/index.js';
import { AllocatorService } from './allocator.service.js';
import { AuditService } from '../audit/audit.service.js';
import { OUTCOME_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';

@Controller()
export class OutcomeEventsController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly audit: AuditService,
  ) {}

  @OnStreamMessage(...Object.values(OUTCOME_SUBJECTS))
  outcome(@Payload() data: Uint8Array, @Ctx() ctx: JetStreamContext): void {
    this.audit.read(ctx.seq, ctx.info.time.getTime());
    this.allocator.onOutcome(data, ctx);
  }
}
