/** Outcome events read back from the stream: folded into the state by the allocator. */
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
    const body = this.allocator.onOutcome(ctx.subject, data, ctx);
    if (body !== null) this.audit.apply(ctx.seq, ctx.subject, ctx.info.time.getTime(), body);
    else this.audit.skip(ctx.seq);
  }
}
