/**
 * Following the stream for GET /v1/events: every outcome as it is stored, to each subscriber, in stream
 * order; a subscriber that gives a sequence first gets the outcomes stored after it (read back with the
 * EventStore), then the live ones, with no gap and no repeat.
 *
 * One ordered consumer follows the stream while anyone listens (started at the stream's end when the
 * first subscriber comes, stopped when the last one leaves); replays use the EventStore's reads.
 */
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DeliverPolicy, jetstreamManager, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { OUTCOME_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';
import { EventStore } from '../../../../libs/jetstream/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import type { AppLogger } from '../logging/logger.js';
import { IPAM_CONFIG, IPAM_LOGGER, JETSTREAM, NATS_CONNECTION } from '../tokens.js';

/** One outcome as the stream stored it. */
export interface StreamOutcome {
  seq: number;
  /** its subject, e.g. ipam.ip.allocated */
  subject: string;
  /** its body as stored (JSON text) */
  data: string;
}

export interface Subscriber {
  /** an outcome, in stream order, each once */
  send(e: StreamOutcome): void;
  /** the replay failed (the subscription is over) */
  fail(err: unknown): void;
}

const OUTCOMES: ReadonlySet<string> = new Set(Object.values(OUTCOME_SUBJECTS));
const decoder = new TextDecoder();
const RETRY_MS = 1000;

@Injectable()
export class EventsService implements OnModuleDestroy {
  private readonly listeners = new Set<(e: StreamOutcome) => void>();
  private readonly store: EventStore;
  /** set while following: resolves once the start sequence of the live consumer is fixed */
  private following: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  /** bumped on every stop: a follow loop of an older generation ends */
  private generation = 0;
  private readonly closers = new Set<() => void>();

  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
    @Inject(IPAM_LOGGER) private readonly logger: AppLogger,
  ) {
    this.store = new EventStore(nc, config.IPAM_STREAM);
  }

  /**
   * Sends every outcome stored after `since` (or, when null, after the moment this resolves) until the
   * returned function is called. Resolves once nothing stored from then on can be missed.
   */
  async subscribe(since: number | null, sub: Subscriber): Promise<() => void> {
    let last = since ?? 0;
    let replaying = since !== null;
    let closed = false;
    const queued: StreamOutcome[] = [];
    const deliver = (e: StreamOutcome) => {
      if (closed || e.seq <= last) return;
      last = e.seq;
      sub.send(e);
    };
    const listener = (e: StreamOutcome) => {
      if (replaying) queued.push(e);
      else deliver(e);
    };
    this.listeners.add(listener);
    const unsubscribe = () => {
      if (closed) return;
      closed = true;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
    try {
      await this.follow();
    } catch (e) {
      unsubscribe();
      throw e;
    }
    if (since !== null) {
      void (async () => {
        // everything stored up to the stream's end now; what is stored later comes from the live consumer
        for await (const batch of this.store.readBatches({ fromSeq: since + 1 })) {
          if (closed) return;
          for (const m of batch) {
            if (OUTCOMES.has(m.subject)) deliver({ seq: m.seq, subject: m.subject, data: decoder.decode(m.data) });
          }
        }
        replaying = false;
        for (const e of queued.splice(0)) deliver(e);
      })().catch((err: unknown) => {
        unsubscribe();
        sub.fail(err);
      });
    }
    return unsubscribe;
  }

  /** Registers what ends a subscriber's answer when the service stops; returns its removal. */
  onClose(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  onModuleDestroy(): void {
    for (const close of [...this.closers]) close();
    this.closers.clear();
    this.listeners.clear();
    this.stop();
  }

  /** Starts the live consumer at the stream's end unless it runs. */
  private follow(): Promise<void> {
    if (this.following) return this.following;
    const generation = this.generation;
    const started = (async () => {
      const jsm = await jetstreamManager(this.nc, { checkAPI: false });
      const info = await jsm.streams.info(this.config.IPAM_STREAM);
      return info.state.last_seq + 1;
    })();
    this.following = started.then(
      (startSeq) => {
        void this.run(generation, startSeq);
      },
      (err: unknown) => {
        if (this.generation === generation) this.following = null;
        throw err;
      },
    );
    return this.following;
  }

  private async run(generation: number, startSeq: number): Promise<void> {
    let next = startSeq;
    while (this.generation === generation) {
      try {
        const consumer = await this.js.consumers.get(this.config.IPAM_STREAM, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: next,
        });
        const messages = await consumer.consume({ max_messages: 256 });
        if (this.generation !== generation) {
          messages.stop();
          return;
        }
        this.messages = messages;
        for await (const m of messages) {
          next = m.seq + 1;
          if (!OUTCOMES.has(m.subject)) continue;
          const e = { seq: m.seq, subject: m.subject, data: m.string() };
          for (const l of [...this.listeners]) l(e);
        }
      } catch (err) {
        if (this.generation !== generation) return;
        this.logger.warn({ err: String(err), next }, 'events: following the stream failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private stop(): void {
    this.generation++;
    this.following = null;
    this.messages?.stop();
    this.messages = null;
  }
}
