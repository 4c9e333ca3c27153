/**
 * Publishing an input on behalf of an HTTP caller and waiting for its outcome.
 */
import { randomUUID } from 'node:crypto';
import { GatewayTimeoutException, Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { IpamEvent } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import type { InputSubject } from '../allocator/subjects.js';
import { JETSTREAM } from '../tokens.js';

export const OUTCOME_TIMEOUT_MS = 15_000;
/** The 504 of an operation that publishes an input and waits for its outcome, for the OpenAPI document. */
export const OUTCOME_TIMEOUT_DOC = `stored, but no outcome within ${OUTCOME_TIMEOUT_MS / 1000} s (is a decider running?): {code: OutcomeTimeout, reason, seq}`;

@Injectable()
export class PublishService {
  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    private readonly allocator: AllocatorService,
  ) {}

  /** Publishes the input with a fresh Nats-Msg-Id and resolves with its outcome. */
  async publishAndWait(
    subject: InputSubject,
    body: unknown,
  ): Promise<{ seq: number; msgId: string; outcome: IpamEvent }> {
    const msgId = `http-${randomUUID()}`;
    const ack = await this.js.publish(subject, JSON.stringify(body), { msgID: msgId, timeout: 10_000 });
    const outcome = await this.allocator.waitForOutcome(ack.seq, OUTCOME_TIMEOUT_MS);
    if (!outcome) {
      throw new GatewayTimeoutException({
        code: 'OutcomeTimeout',
        reason: `the event was stored as seq ${ack.seq} but no outcome arrived within ${OUTCOME_TIMEOUT_MS / 1000} s; is a decider running? Ask again later with GET.`,
        seq: ack.seq,
      });
    }
    return { seq: ack.seq, msgId, outcome };
  }
}
