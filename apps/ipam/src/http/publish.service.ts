/**
 * Publishing an input on behalf of an HTTP caller and waiting for its outcome.
 */
import { randomUUID } from 'node:crypto';
import { GatewayTimeoutException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { IpamEvent } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import type { InputSubject } from '../../../../libs/ipam-contract/src/index.js';
import { isUnavailable } from '../../../../libs/jetstream/src/index.js';
import { JETSTREAM } from '../tokens.js';
import { ReadinessService } from './readiness.service.js';

export const OUTCOME_TIMEOUT_MS = 15_000;
const PUBLISH_TIMEOUT_MS = 10_000;
/** The 504 of an operation that publishes an input and waits for its outcome, for the OpenAPI document. */
export const OUTCOME_TIMEOUT_DOC = `stored, but no outcome within ${OUTCOME_TIMEOUT_MS / 1000} s (is a decider running?): {code: OutcomeTimeout, reason, seq}`;
/** The 503 of an operation that publishes an input, for the OpenAPI document. */
export const UNAVAILABLE_DOC = 'NATS or JetStream out of reach: {code: Unavailable, reason}';

@Injectable()
export class PublishService {
  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    private readonly allocator: AllocatorService,
    private readonly readiness: ReadinessService,
  ) {}

  /** Publishes the input with a fresh Nats-Msg-Id and resolves with its outcome. */
  async publishAndWait(
    subject: InputSubject,
    body: unknown,
  ): Promise<{ seq: number; msgId: string; outcome: IpamEvent }> {
    if (!this.readiness.isConnected()) {
      throw new ServiceUnavailableException({
        code: 'Unavailable',
        reason: 'NATS is out of reach (the service is reconnecting); nothing was published. Try again later.',
      });
    }
    const msgId = `http-${randomUUID()}`;
    let ack;
    try {
      ack = await this.js.publish(subject, JSON.stringify(body), {
        msgID: msgId,
        timeout: PUBLISH_TIMEOUT_MS,
      });
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      throw new ServiceUnavailableException({
        code: 'Unavailable',
        reason: `JetStream did not acknowledge the event within ${PUBLISH_TIMEOUT_MS / 1000} s (${String(e)}); it may still have been stored: look before trying again.`,
      });
    }
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
