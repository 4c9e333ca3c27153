/**
 * The allocator: folds the stream into the domain state and answers every input exactly once.
 *
 * Inputs are answered in stream order. An input is decided at once when this instance leads, has read
 * everything the stream held when it started leading, and no earlier input is still waiting; otherwise
 * it waits in `pending` until its outcome is read from the stream (another instance, or this one before
 * a restart, answered it) or this instance becomes able to decide it.
 *
 * Outcomes are applied in the order of the inputs they answer (not merely the order they were stored),
 * so that replaying the stream always reaches the state each decision was made on. The first outcome
 * stored for an input is the one that counts; any later one is ignored.
 *
 * Decisions are deterministic (the domain reads only the state and the input), and each outcome is
 * published with a Nats-Msg-Id derived from its input's sequence, so two instances that decide the
 * same input publish the same message and the stream stores it once.
 */
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  decide,
  evolve,
  initialState,
  IpamCommand,
  IpamEvent,
  IpamState,
} from '../../../../libs/ipam-domain/src/index.js';
import type { JetStreamContext } from '../../../../libs/nest-jetstream/src/index.js';
import { IPAM_CONFIG, IPAM_LOGGER, JETSTREAM } from '../tokens.js';
import type { IpamEnv } from '../config/ipam.config.js';
import type { AppLogger } from '../logging/logger.js';
import { EVENT_TYPE_BY_SUBJECT, outcomeMsgId, outcomeSubject } from '../../../../libs/ipam-contract/src/index.js';
import { AllocatorMetrics } from './allocator.metrics.js';

interface PendingInput {
  seq: number;
  command: IpamCommand;
  resolve: () => void;
}

const decoder = new TextDecoder();

export interface Resetter {
  requestReset(reason: string): void;
}

@Injectable()
export class AllocatorService implements OnModuleInit, OnModuleDestroy {
  state: IpamState = initialState();

  /** inputs not answered yet, in stream order: queue[head..] */
  private queue: PendingInput[] = [];
  private head = 0;
  private readonly bySeq = new Map<number, PendingInput>();
  /** outcomes read before the inputs ahead of theirs were answered */
  private readonly early = new Map<number, IpamEvent>();
  /** bodies this instance published and has not read back yet, by causation sequence */
  private readonly own = new Map<number, string>();
  private live = false;
  private resetter: Resetter | null = null;
  /** fencing: may this instance act as the decider right now (lease still valid)? */
  private mayAct: () => boolean = () => true;
  /** stream sequence of the last input answered (by anyone) */
  lastAnswered = 0;
  /** callers waiting for the outcome of an input (HTTP API), and the most recent outcomes */
  private readonly waiters = new Map<number, Array<(e: IpamEvent) => void>>();
  private readonly recent = new Map<number, IpamEvent>();

  constructor(
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
    @Inject(IPAM_LOGGER) private readonly logger: AppLogger,
    private readonly metrics: AllocatorMetrics,
  ) {}

  private wake: NodeJS.Timeout | null = null;

  onModuleInit(): void {
    // Inputs that arrived while the lease was briefly not valid wait in the queue; when it is valid
    // again without a change of leader, no message may come along to drain them.
    this.wake = setInterval(() => {
      if (this.live && this.pendingCount > 0 && this.mayAct()) this.drain();
    }, 500);
    this.wake.unref();
  }

  onModuleDestroy(): void {
    if (this.wake) clearInterval(this.wake);
  }

  attach(resetter: Resetter, mayAct?: () => boolean): void {
    this.resetter = resetter;
    if (mayAct) this.mayAct = mayAct;
  }

  get isLive(): boolean {
    return this.live;
  }

  get pendingCount(): number {
    return this.queue.length - this.head;
  }

  /** This instance leads and has read the stream as of taking the lead: decide what waits. */
  onCaughtUp(): void {
    this.live = true;
    this.logger.info({ pending: this.pendingCount, lastAnswered: this.lastAnswered }, 'deciding');
    this.drain();
  }

  onLeadership(leader: boolean): void {
    if (!leader) this.live = false;
  }

  /** The stream is read again from its start: forget everything. */
  reset(reason: string): void {
    this.logger.warn({ reason }, 'state discarded; rebuilding from the stream');
    this.state = initialState();
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].resolve();
    this.queue = [];
    this.head = 0;
    this.bySeq.clear();
    this.early.clear();
    this.own.clear();
    this.recent.clear();
    this.live = false;
    this.lastAnswered = 0;
  }

  /** An input event read from the stream. */
  onInput(command: IpamCommand, ctx: JetStreamContext): void {
    if (this.live && this.pendingCount === 0 && this.mayAct()) {
      ctx.ackAfter(this.decideAndPublish(command));
      return;
    }
    let resolve!: () => void;
    const answered = new Promise<void>((r) => (resolve = r));
    const entry: PendingInput = { seq: command.meta.seq, command, resolve };
    this.queue.push(entry);
    this.bySeq.set(entry.seq, entry);
    ctx.ackAfter(answered);
    if (this.live) this.drain();
  }

  /** An outcome event read from the stream; returns its parsed body (null when it is not JSON). */
  onOutcome(subject: string, data: Uint8Array, ctx: JetStreamContext): unknown {
    const type = EVENT_TYPE_BY_SUBJECT[subject];
    let body: { causationSeq?: unknown } | null;
    const text = decoder.decode(data);
    try {
      body = JSON.parse(text);
    } catch {
      this.logger.warn({ seq: ctx.seq, subject }, 'an outcome that is not JSON was ignored');
      return null;
    }
    this.foldOutcome(type, text, body, subject, ctx);
    return body;
  }

  private foldOutcome(
    type: IpamEvent['type'] | undefined,
    text: string,
    body: { causationSeq?: unknown } | null,
    subject: string,
    ctx: JetStreamContext,
  ): void {
    const causationSeq = body?.causationSeq;
    if (type === undefined || typeof causationSeq !== 'number') {
      this.logger.warn({ seq: ctx.seq, subject }, 'an outcome without causationSeq was ignored');
      return;
    }
    const mine = this.own.get(causationSeq);
    if (mine !== undefined) {
      this.own.delete(causationSeq);
      if (mine !== text) {
        // Another instance answered first, differently (two builds deciding at once): the stream wins.
        this.logger.error(
          { seq: ctx.seq, causationSeq, stored: text, ours: mine },
          'the stored outcome differs from this instance decision; rebuilding from the stream',
        );
        this.resetter?.requestReset(`outcome for seq ${causationSeq} differs`);
      }
      return;
    }
    const entry = this.bySeq.get(causationSeq);
    if (!entry) {
      this.logger.debug({ seq: ctx.seq, causationSeq }, 'outcome for an input already answered; ignored');
      return;
    }
    const event = { type, data: body } as IpamEvent;
    if (entry !== this.queue[this.head]) {
      this.early.set(causationSeq, event);
      return;
    }
    this.applyAnswered(entry, event);
    this.drainEarly();
    if (this.live) this.drain();
  }

  /** Resolves with the outcome of the input at `seq` once it is stored (or null after `timeoutMs`). */
  waitForOutcome(seq: number, timeoutMs: number): Promise<IpamEvent | null> {
    const done = this.recent.get(seq);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const list = this.waiters.get(seq) ?? [];
      const timer = setTimeout(() => {
        const rest = (this.waiters.get(seq) ?? []).filter((w) => w !== onEvent);
        if (rest.length > 0) this.waiters.set(seq, rest);
        else this.waiters.delete(seq);
        resolve(null);
      }, timeoutMs);
      const onEvent = (e: IpamEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      list.push(onEvent);
      this.waiters.set(seq, list);
    });
  }

  private answered(seq: number, event: IpamEvent): void {
    this.recent.set(seq, event);
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value as number);
    const list = this.waiters.get(seq);
    if (list) {
      this.waiters.delete(seq);
      for (const w of list) w(event);
    }
  }

  private applyAnswered(entry: PendingInput, event: IpamEvent): void {
    evolve(this.state, event);
    this.answered(entry.seq, event);
    this.queue[this.head] = undefined as unknown as PendingInput;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.bySeq.delete(entry.seq);
    this.lastAnswered = entry.seq;
    entry.resolve();
  }

  private drainEarly(): void {
    while (this.head < this.queue.length) {
      const next = this.queue[this.head];
      const event = this.early.get(next.seq);
      if (!event) return;
      this.early.delete(next.seq);
      this.applyAnswered(next, event);
    }
  }

  /** Decide every waiting input in order (only while live). */
  private drain(): void {
    while (this.live && this.head < this.queue.length && this.mayAct()) {
      const next = this.queue[this.head];
      const stored = this.early.get(next.seq);
      if (stored) {
        this.early.delete(next.seq);
        this.applyAnswered(next, stored);
        continue;
      }
      const published = this.decideAndPublish(next.command);
      this.queue[this.head] = undefined as unknown as PendingInput;
      this.head++;
      this.bySeq.delete(next.seq);
      published.then(next.resolve, () => undefined);
    }
  }

  /** Decides one input, applies the outcome, and publishes it; resolves once the stream stored it. */
  private decideAndPublish(command: IpamCommand): Promise<unknown> {
    const started = performance.now();
    let events: IpamEvent[];
    try {
      events = decide(command, this.state);
    } catch (e) {
      // A bug, not bad input: answer anyway so the input is not left without an outcome.
      this.logger.error(
        { seq: command.meta.seq, err: String(e), stack: (e as Error).stack },
        'decide failed',
      );
      events = decide(
        {
          type: 'RejectInput',
          data: {
            target:
              command.type.endsWith('Pool') || command.type === 'ImportHistory'
                ? 'pool'
                : command.type === 'ForceReleaseAddress'
                  ? 'ip'
                  : 'lb',
            name: '',
            code: 'InternalError',
            reason: `internal error while deciding this event: ${String(e)}`,
          },
          meta: command.meta,
        },
        this.state,
      );
    }
    const publishes: Promise<unknown>[] = [];
    events.forEach((event, i) => {
      evolve(this.state, event);
      const subject = outcomeSubject(event);
      const body = JSON.stringify(event.data);
      const seq = command.meta.seq;
      this.own.set(seq, body);
      this.lastAnswered = seq;
      const msgID = outcomeMsgId(this.config.IPAM_STREAM, seq) + (i > 0 ? `:${i}` : '');
      this.logDecision(seq, event);
      this.metrics.decided(subject, event, performance.now() - started);
      publishes.push(
        this.js.publish(subject, body, { msgID, timeout: 10_000 }).then((ack) => {
          this.answered(seq, event);
          return ack;
        }),
      );
    });
    return publishes.length === 1 ? publishes[0] : Promise.all(publishes);
  }

  private logDecision(seq: number, event: IpamEvent): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const d = event.data as unknown as Record<string, unknown>;
    this.logger.info(
      {
        seq,
        causationId: d.causationId,
        outcome: event.type,
        loadBalancer: d.loadBalancer,
        pool: d.ipPool ?? d.name,
        ip: d.ip,
        code: d.code,
        reason: d.reason,
      },
      'decided',
    );
  }
}
