/**
 * Publishing an input on behalf of an HTTP caller and waiting for its outcome.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { IpamEvent } from '../../../../libs/ipam-domain/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { withActor, type InputSubject } from '../../../../libs/ipam-contract/src/index.js';
import { InputPublisher, isIpamClientError } from '../../../../libs/ipam-client/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG, NATS_CONNECTION } from '../tokens.js';
import { ApiProblem } from './problem.js';
import { ReadinessService } from './readiness.service.js';

export const OUTCOME_TIMEOUT_MS = 15_000;
const PUBLISH_TIMEOUT_MS = 10_000;

@Injectable()
export class PublishService {
  /** libs/ipam-client's publish with a Nats-Msg-Id; the outcome comes from the allocator, in process */
  private readonly publisher: InputPublisher;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(IPAM_CONFIG) config: IpamEnv,
    private readonly allocator: AllocatorService,
    private readonly readiness: ReadinessService,
  ) {
    this.publisher = new InputPublisher(nc, {
      stream: config.IPAM_STREAM,
      timeoutMs: PUBLISH_TIMEOUT_MS,
      msgIdPrefix: 'http-',
    });
  }

  /** Whether NATS is reachable now (a write answers 503 at once when it is not). */
  isConnected(): boolean {
    return this.readiness.isConnected();
  }

  /** Publishes the input (written by `actor`, when known) with a fresh Nats-Msg-Id; resolves with its outcome. */
  async publishAndWait(
    subject: InputSubject,
    body: unknown,
    actor: string | undefined,
  ): Promise<{ seq: number; msgId: string; outcome: IpamEvent }> {
    if (!this.readiness.isConnected()) {
      throw new ApiProblem(
        'Unavailable',
        'NATS is out of reach (the service is reconnecting); nothing was published. Try again later.',
      );
    }
    let ack;
    try {
      // written on behalf of the authenticated caller: the input says who (its metadata.actor)
      ack = await this.publisher.publish(subject, withActor(body, actor) as never);
    } catch (e) {
      if (!isIpamClientError(e) || (e.code !== 'Unavailable' && e.code !== 'NoStream')) throw e;
      throw new ApiProblem(
        'Unavailable',
        e.code === 'NoStream'
          ? `JetStream did not take the event (${e.message}); nothing was stored. Try again later.`
          : `JetStream did not acknowledge the event within ${PUBLISH_TIMEOUT_MS / 1000} s; it may still have been stored: look before trying again.`,
      );
    }
    const msgId = ack.msgId;
    const outcome = await this.allocator.waitForOutcome(ack.seq, OUTCOME_TIMEOUT_MS);
    if (!outcome) {
      throw new ApiProblem(
        'OutcomeTimeout',
        `the event was stored as seq ${ack.seq} but no outcome arrived within ${OUTCOME_TIMEOUT_MS / 1000} s; is a decider running? Ask again later with GET.`,
        { seq: ack.seq },
      );
    }
    return { seq: ack.seq, msgId, outcome };
  }
}
