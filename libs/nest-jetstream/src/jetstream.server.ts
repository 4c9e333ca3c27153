/**
 * A small NestJS custom transport for one JetStream stream, read in total order.
 *
 * - `@EventPattern(subject)` handlers receive every message of the stream whose subject equals the
 *   pattern, one at a time, in stream order (the next message is dispatched once the handler returned).
 *   A handler defers the acknowledgement of its message with `ctx.ackAfter(promise)`.
 * - `@MessagePattern(subject)` handlers answer core NATS requests (queries) in a queue group.
 *
 * Reading: every session first reads the stream in order up to its last sequence at the start of the
 * session (ordered consumer: rebuilding state). Then the leader consumes through the shared durable
 * consumer, while a standby keeps tailing with its ordered consumer. The durable acknowledges in
 * batches (`AckPolicy.All`: one ack covers every message up to it, see ack-floor.ts), never past a
 * message whose deferred work is still running, so a crash leaves that work for the next leader. A
 * durable made by an earlier version (explicit acks: one per message) is replaced by one that starts
 * right after this instance's position; where it may not be deleted, it is read on with explicit acks.
 * A leadership change starts a new session from the current position; a failure (a deferred piece of
 * work rejected, the stream unreadable) discards the position and rebuilds from the start of the
 * stream after a backoff.
 *
 * Self-healing: while leading, the durable consumer is looked at every `consumerCheckMs` (and its
 * deliveries stop on a missing consumer rather than waiting for it forever). One that was deleted, or
 * changed so that it would not deliver every message and wait for its ack, by anyone else is logged,
 * (re)created right after this instance's position, and read on: decisions resume without a restart.
 */
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { backoffMs, untilAvailable } from '../../jetstream/src/unavailable.js';
import { JetStreamContext, NatsRequestContext } from './jetstream.context.js';
import { AckFloor } from './ack-floor.js';

export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Whether some instance may decide now, as this instance sees it. */
export interface DeciderView {
  present: boolean;
  /** the instance named as decider, null when none */
  holder: string | null;
  /** this instance is the decider */
  self: boolean;
  /** why none is present (null when one is) */
  reason: string | null;
}

/** Who may decide. `null` leadership in the options means: this instance always leads. */
export interface Leadership {
  start(onChange: (leader: boolean) => void): Promise<void>;
  stop(): Promise<void>;
  isLeader(): boolean;
  /** whether any instance may decide now (default: this one when it leads) */
  decider?(): DeciderView;
}

export interface JetStreamServerOptions {
  connection: NatsConnection;
  stream: string;
  durable: string;
  leadership: Leadership | null;
  logger: TransportLogger;
  /** prepares the stream (creates it when missing) before the first session */
  prepare?: (jsm: JetStreamManager) => Promise<void>;
  /**
   * Loads saved state (a snapshot) before the stream is read, at the start and after each reset;
   * resolves with the last sequence that state covers (0: read from the start). It must not throw.
   */
  restore?: () => Promise<number>;
  /** queue group for request/reply handlers */
  queryQueue?: string;
  /** max unacknowledged messages on the durable consumer */
  maxAckPending?: number;
  ackWaitMs?: number;
  /** how often the leader checks that its durable consumer still exists as created (ms); default 2000 */
  consumerCheckMs?: number;
}

type ServerEvents = {
  /** the position the first session reads after, as restored (0: the start of the stream) */
  restored: (seq: number) => void;
  /** this instance leads and has read everything stored when it started leading */
  'caught-up': () => void;
  leader: (leader: boolean) => void;
  /** the position was discarded; state must be rebuilt from the messages that follow */
  reset: (reason: string) => void;
  /** the durable consumer was found deleted or changed by someone else and is being recreated */
  'consumer-lost': (reason: string) => void;
};

const nanos = (ms: number) => ms * 1_000_000;

/**
 * How long a done delivery may wait for its ack: one ack then covers all done meanwhile (at a steady
 * 500 requests/s, one ack per ten inputs rather than one each, a socket write saved per input). A crash
 * in that window only has those messages delivered again, and they are answered already.
 */
const ACK_DELAY_MS = 20;

/** Takes a durable delivery to acknowledge once `work` (null: none left) is done. */
type Acker = (seq: number, m: JsMsg, work: Promise<unknown> | null) => void;
/**
 * Pull requests expire after this long and are renewed; the server sends idle heartbeats at half of
 * it, and two missed heartbeats make the client pull again. On a cluster a pull held by a consumer
 * leader that died is lost: the client's default (30 s) stalled the decider for 30 s after such a
 * kill -9, this resumes it within 5 s once the new consumer leader is elected.
 */
const PULL_EXPIRES_MS = 5_000;

export class JetStreamServer extends Server<ServerEvents> implements CustomTransportStrategy {
  private readonly o: Required<Omit<JetStreamServerOptions, 'prepare' | 'leadership' | 'restore'>> &
    Pick<JetStreamServerOptions, 'prepare' | 'leadership' | 'restore'>;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private readonly callbacks: { [K in keyof ServerEvents]: ServerEvents[K][] } = {
    restored: [],
    'caught-up': [],
    leader: [],
    reset: [],
    'consumer-lost': [],
  };
  private readonly subscriptions: Subscription[] = [];
  private current: ConsumerMessages | null = null;
  private closing = false;
  private sessionStale = false;
  private resetReason: string | null = null;
  private running: Promise<void> | null = null;
  private inHand: Promise<void> | null = null;
  /** a read of what the durable consumer handed to another instance (see readWhatOthersHold) */
  private gapRead: Promise<void> | null = null;
  private positionWaiters: Array<{ seq: number; resolve: () => void }> = [];
  /** handler per subject, looked up once (Nest normalizes the pattern on every lookup) */
  private readonly handlerCache = new Map<string, MessageHandler | null>();
  /** why the durable consumer must be recreated before the next session reads through it */
  private durableLost: string | null = null;
  /** how the durable consumer in use is acknowledged: in batches, or (an earlier version's) one by one */
  private ackMode: 'all' | 'explicit' = 'all';
  /** an earlier version's explicit-ack durable could not be replaced: it is used as it is */
  private keepExplicit = false;

  /** highest stream sequence dispatched */
  position = 0;
  /** the last sequence of the stream when the current session started */
  target = 0;
  caughtUp = false;
  leader = false;

  constructor(options: JetStreamServerOptions) {
    super();
    this.o = {
      queryQueue: 'ipam-query',
      maxAckPending: 50_000,
      ackWaitMs: 60_000,
      consumerCheckMs: 2000,
      ...options,
    };
  }

  /** Whether any instance may decide now, as this instance sees it. */
  decider(): DeciderView {
    const l = this.o.leadership;
    if (l?.decider) return l.decider();
    const self = l === null || l.isLeader();
    return {
      present: self,
      holder: null,
      self,
      reason: self ? null : 'this instance does not lead and cannot tell who does',
    };
  }

  on<K extends keyof ServerEvents>(event: K, callback: ServerEvents[K]): void {
    this.callbacks[event].push(callback);
  }

  private emit<K extends keyof ServerEvents>(event: K, ...args: Parameters<ServerEvents[K]>): void {
    for (const cb of this.callbacks[event]) (cb as (...a: unknown[]) => void)(...args);
  }

  unwrap<T>(): T {
    return this.o.connection as T;
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      this.js = jetstream(this.o.connection);
      // NATS or JetStream out of reach at start (a timeout, no responders): wait it out, as later on
      this.jsm = await untilAvailable(
        async () => {
          const jsm = await jetstreamManager(this.o.connection);
          if (this.o.prepare) await this.o.prepare(jsm);
          return jsm;
        },
        {
          stopped: () => this.closing,
          onRetry: (err, delayMs) =>
            this.o.logger.warn(
              { err: String(err), retryInMs: delayMs },
              'JetStream not reachable yet; retrying',
            ),
        },
      );
      this.subscribeRequests();
      if (this.o.leadership) {
        await this.o.leadership.start((leader) => this.onLeadership(leader));
        this.leader = this.o.leadership.isLeader();
      } else {
        this.leader = true;
      }
      this.emit('leader', this.leader);
      await this.restorePosition();
      this.running = this.run();
      callback();
    } catch (e) {
      callback(e);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.current?.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    // finish the message in hand, then stop
    await this.inHand?.catch(() => undefined);
    await this.gapRead;
    await this.running?.catch(() => undefined);
    await this.o.leadership?.stop();
  }

  /** Resolves once every message up to `seq` has been dispatched (or after `timeoutMs`). */
  waitForPosition(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.position >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { seq, resolve: () => resolve(true) };
      this.positionWaiters.push(waiter);
      setTimeout(() => {
        this.positionWaiters = this.positionWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.o.stream);
    return info.state.last_seq;
  }

  /** Discard the position and rebuild from the start of the stream (after a failure). */
  requestReset(reason: string): void {
    if (this.resetReason !== null || this.closing) return;
    this.resetReason = reason;
    this.o.logger.error({ reason }, 'rebuilding state from the stream after a failure');
    this.sessionStale = true;
    this.current?.stop();
  }

  /** Sets the position from the saved state, if any (see `restore`). */
  private async restorePosition(): Promise<void> {
    if (!this.o.restore) return;
    const seq = await this.o.restore().catch(() => 0);
    this.position = seq;
    this.emit('restored', seq);
  }

  private onLeadership(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.o.logger.info(
      { leader },
      leader ? 'acquired the decider lease' : 'lost the decider lease; standing by',
    );
    this.emit('leader', leader);
    this.sessionStale = true;
    this.current?.stop();
  }

  /**
   * The durable consumer, created when missing to start right after what this instance has read (a
   * first start on a long stream must not have every message delivered again just to be skipped).
   * Everything up to that position has been read in order, and what waits for an answer waits in the
   * state, so replacing a durable (an earlier version's, or one changed by someone else) loses nothing.
   */
  private async ensureDurable(): Promise<void> {
    const lost = this.durableLost;
    this.durableLost = null;
    let existing: ConsumerConfig | null = null;
    try {
      existing = (await this.jsm.consumers.info(this.o.stream, this.o.durable)).config;
    } catch (e) {
      if (!isConsumerNotFound(e)) throw e;
    }
    let migrating = false;
    if (existing !== null) {
      const changed = durableChange(existing, this.keepExplicit);
      if (changed === null) {
        this.ackMode = ackModeOf(existing);
        return;
      }
      migrating = existing.ack_policy === AckPolicy.Explicit && durableChange(existing, true) === null;
      if (migrating) {
        this.o.logger.info(
          { durable: this.o.durable, startSeq: this.position + 1 },
          'the durable consumer acknowledges one message at a time (made by an earlier version); replacing it with one that acknowledges in batches',
        );
      } else {
        // changed by someone else (it would not deliver every input, or not wait for acks): replace it
        this.o.logger.warn(
          { durable: this.o.durable, change: changed },
          'the durable consumer is not as this service creates it; deleting and recreating it',
        );
      }
      try {
        await this.jsm.consumers.delete(this.o.stream, this.o.durable);
      } catch (e) {
        if (migrating) {
          this.keepExplicit = true;
          this.ackMode = 'explicit';
          this.o.logger.warn(
            { durable: this.o.durable, err: String(e) },
            'could not replace the durable consumer of an earlier version (may this user delete it?); reading on with one ack per message',
          );
          return;
        }
        // someone else's change that cannot be undone: the create below tells
      }
    }
    try {
      await this.jsm.consumers.add(this.o.stream, {
        durable_name: this.o.durable,
        ack_policy: AckPolicy.All,
        ...(this.position > 0
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 }
          : { deliver_policy: DeliverPolicy.All }),
        ack_wait: nanos(this.o.ackWaitMs),
        max_ack_pending: this.o.maxAckPending,
      });
      this.ackMode = 'all';
      const where = { durable: this.o.durable, startSeq: this.position + 1 };
      if (migrating) this.o.logger.info(where, 'replaced the durable consumer; acknowledging in batches');
      else if (lost === null) this.o.logger.info(where, 'created the durable consumer');
      else this.o.logger.warn({ ...where, reason: lost }, 'recreated the durable consumer; deciding again');
    } catch (e) {
      // another instance created it at the same moment: use theirs
      const theirs = await this.jsm.consumers.info(this.o.stream, this.o.durable).catch(() => {
        throw e;
      });
      this.ackMode = ackModeOf(theirs.config);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      try {
        await this.session();
        failures = 0;
      } catch (e) {
        if (this.closing) break;
        if (this.leader && this.durableLost === null && (await this.durableMissing())) {
          // deleted under our feet (the deliveries stopped on it): recreate it in the next session
          this.noteDurableLost('the durable consumer was deleted (not by this service)');
          continue;
        }
        failures++;
        const delay = backoffMs(failures + 1, 250, 10_000);
        this.o.logger.warn({ err: String(e), retryInMs: delay }, 'reading the stream failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
      if (this.resetReason !== null && !this.closing) {
        const reason = this.resetReason;
        await new Promise((r) => setTimeout(r, 500));
        this.position = 0;
        this.resetReason = null;
        this.emit('reset', reason);
        await this.restorePosition();
      }
    }
  }

  private async session(): Promise<void> {
    this.sessionStale = false;
    this.caughtUp = false;
    const leader = this.leader;
    this.target = await this.lastSeq();
    this.o.logger.info(
      { leader, position: this.position, target: this.target },
      this.position < this.target ? 'reading the stream to catch up' : 'stream read; following it',
    );
    // Phase 1: read in order up to the stream's end as of now.
    if (this.position < this.target) await this.consume(false, this.target);
    if (this.sessionStale || this.closing) return;
    this.markCaughtUp(leader);
    // Phase 2: the leader consumes through the durable consumer, a standby tails.
    if (leader) {
      await this.ensureDurable();
      // The durable consumer resumes after its ack floor: fill any gap between our position and it.
      const floor = (await this.jsm.consumers.info(this.o.stream, this.o.durable)).ack_floor.stream_seq;
      if (floor > this.position) await this.consume(false, floor);
      if (this.sessionStale || this.closing) return;
      const watch = this.watchDurable();
      try {
        await this.consume(true, Infinity);
      } finally {
        clearInterval(watch);
      }
    } else {
      await this.consume(false, Infinity);
    }
  }

  /**
   * Checks the durable consumer every consumerCheckMs while reading through it: one deleted or changed by
   * someone else ends the session, and the next one recreates it after this instance's position.
   */
  private watchDurable(): NodeJS.Timeout {
    let busy = false;
    let positionBefore = -1;
    const timer = setInterval(() => {
      if (busy || this.sessionStale || this.closing) return;
      busy = true;
      void this.jsm.consumers
        .info(this.o.stream, this.o.durable)
        .then(
          (info) => {
            const changed = durableChange(info.config, this.keepExplicit);
            if (changed !== null) this.noteDurableLost(`the durable consumer was changed: ${changed}`);
            else this.readWhatOthersHold(info.delivered.stream_seq, positionBefore);
            positionBefore = this.position;
          },
          (e) => {
            if (isConsumerNotFound(e))
              this.noteDurableLost('the durable consumer was deleted (not by this service)');
            // anything else (a timeout while NATS is away): the next check or the deliveries tell
          },
        )
        .finally(() => (busy = false));
    }, this.o.consumerCheckMs);
    timer.unref();
    return timer;
  }

  /**
   * The durable consumer delivered up to `delivered`, and this instance has not moved since the last
   * check: the rest went to another instance's pull (a leader that lost the lease while paused, whose
   * pull was still open) and comes back only after ack_wait. Read it in order now, between two
   * deliveries. (A later delivery would read that gap too; here none may come.)
   */
  private readWhatOthersHold(delivered: number, positionBefore: number): void {
    if (delivered <= this.position || this.position !== positionBefore) return;
    if (this.inHand !== null || this.gapRead !== null) return;
    this.o.logger.info(
      { position: this.position, delivered },
      'reading messages the durable consumer handed to another instance',
    );
    this.gapRead = this.fillGap(delivered)
      .catch((e) => this.o.logger.warn({ err: String(e) }, 'reading them failed; the next check tries again'))
      .finally(() => (this.gapRead = null));
  }

  private async durableMissing(): Promise<boolean> {
    try {
      await this.jsm.consumers.info(this.o.stream, this.o.durable);
      return false;
    } catch (e) {
      return isConsumerNotFound(e);
    }
  }

  /** The durable consumer is gone or unusable: log it, end this session, recreate it in the next. */
  private noteDurableLost(reason: string): void {
    if (this.durableLost !== null || this.closing) return;
    this.durableLost = reason;
    this.o.logger.warn(
      { durable: this.o.durable, stream: this.o.stream, position: this.position, reason },
      `${reason}; recreating it`,
    );
    this.emit('consumer-lost', reason);
    this.sessionStale = true;
    this.current?.stop();
  }

  private markCaughtUp(leader: boolean): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    this.o.logger.info({ position: this.position, leader }, 'caught up with the stream');
    if (leader) this.emit('caught-up');
  }

  private async consume(durable: boolean, until: number): Promise<void> {
    const consumer = durable
      ? await this.js.consumers.get(this.o.stream, this.o.durable)
      : await this.js.consumers.get(
          this.o.stream,
          this.position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 }
            : { deliver_policy: DeliverPolicy.All },
        );
    // the durable: stop (and let the session recreate it) rather than wait forever when it is deleted
    const messages = await consumer.consume(
      durable
        ? { max_messages: 1000, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true }
        : { max_messages: 1000, expires: PULL_EXPIRES_MS },
    );
    this.current = messages;
    if (this.sessionStale || this.closing) {
      // closed, or the role changed, while the consumer was being set up: nobody else will stop it
      this.current = null;
      messages.stop();
      return;
    }
    const ack = durable ? this.acker() : null;
    try {
      for await (const m of messages) {
        if (this.sessionStale || this.closing) break;
        if (this.gapRead !== null) await this.gapRead; // one reader of the stream at a time
        const work = this.onMessage(m, ack);
        this.inHand = work;
        await work;
        this.inHand = null;
        if (this.position >= until) break;
      }
    } finally {
      this.current = null;
      messages.stop();
    }
  }

  /**
   * Acknowledges the durable consumer's deliveries once their work is done: with `AckPolicy.All`, one
   * ack at most every ACK_DELAY_MS covers every delivery done by then (ack-floor.ts).
   */
  private acker(): Acker {
    if (this.ackMode === 'explicit') {
      return (seq, m, work) => {
        if (work === null) m.ack();
        else
          work.then(
            () => m.ack(),
            (e) => this.requestReset(`work for seq ${seq} failed: ${String(e)}`),
          );
      };
    }
    const floor = new AckFloor<JsMsg>();
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      floor.take()?.ack();
    };
    const soon = () => {
      if (scheduled) return;
      scheduled = true;
      setTimeout(flush, ACK_DELAY_MS);
    };
    return (seq, m, work) => {
      floor.delivered(seq, m, work === null);
      if (work === null) soon();
      else
        work.then(
          () => {
            floor.settle(seq);
            soon();
          },
          (e) => this.requestReset(`work for seq ${seq} failed: ${String(e)}`),
        );
    };
  }

  private async onMessage(m: JsMsg, ack: Acker | null): Promise<void> {
    const seq = m.seq;
    if (seq <= this.position) {
      ack?.(seq, m, null);
      return;
    }
    if (ack !== null && seq > this.position + 1) {
      // The durable consumer is shared: messages it handed to another instance (one that lost the
      // lease, or is paused with a pull still open) are redelivered only after ack_wait. Read the gap
      // in order now; never step over a message.
      await this.fillGap(seq - 1);
      if (seq <= this.position) {
        ack(seq, m, null);
        return;
      }
    }
    this.position = seq;
    const ctx = new JetStreamContext({
      stream: this.o.stream,
      seq,
      subject: m.subject,
      get msgId() {
        return m.headers?.get('Nats-Msg-Id') || null;
      },
      time: new Date(Math.floor(m.info.timestampNanos / 1_000_000)),
      get headers() {
        return m.headers;
      },
      data: m.data,
      replaying: seq <= this.target,
    });
    let handler = this.handlerCache.get(m.subject);
    if (handler === undefined) {
      handler = this.getHandlerByPattern(m.subject);
      if (this.handlerCache.size < 1024) this.handlerCache.set(m.subject, handler); // bounded: subjects are free text
    }
    if (handler) {
      try {
        const result = await handler(m.data, ctx);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      } catch (e) {
        // A handler must turn bad input into an outcome; reaching here is a bug. Log it and go on:
        // a redelivery loop or a crash would stop every event after this one.
        this.o.logger.error({ seq, subject: m.subject, err: String(e) }, 'handler failed');
      }
    }
    if (ack !== null) ack(seq, m, ctx.settled());
    else ctx.settled()?.catch((e) => this.requestReset(`work for seq ${seq} failed: ${String(e)}`));
    if (this.positionWaiters.length > 0) {
      const ready = this.positionWaiters.filter((w) => w.seq <= seq);
      this.positionWaiters = this.positionWaiters.filter((w) => w.seq > seq);
      for (const w of ready) w.resolve();
    }
    if (!this.caughtUp && seq >= this.target) this.markCaughtUp(this.leader);
  }

  /** Reads (position, upTo] in order with a one-off ordered consumer (messages there need no ack). */
  private async fillGap(upTo: number): Promise<void> {
    const from = this.position + 1;
    const consumer = await this.js.consumers.get(this.o.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const messages = await consumer.consume({
      max_messages: Math.min(1000, upTo - from + 1),
      expires: PULL_EXPIRES_MS,
    });
    try {
      for await (const gap of messages) {
        if (gap.seq > upTo) break;
        await this.onMessage(gap, null);
        if (this.position >= upTo || this.closing) break;
      }
    } finally {
      messages.stop();
    }
    this.o.logger.debug({ from, to: upTo }, 'read a gap in the durable consumer deliveries');
  }

  private subscribeRequests(): void {
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler) continue;
      const sub = this.o.connection.subscribe(pattern, {
        queue: this.o.queryQueue,
        callback: (err, msg) => {
          if (err) return;
          void this.answer(handler, pattern, msg.data)
            .then(
              (reply) => this.respond(msg, pattern, reply),
              (e) => this.respond(msg, pattern, { error: { code: 'InternalError', reason: String(e) } }),
            )
            .catch((e) =>
              this.o.logger.error({ subject: pattern, err: String(e) }, 'could not answer a request'),
            );
        },
      });
      this.subscriptions.push(sub);
    }
  }

  /** Replies; a reply larger than the server's max_payload becomes an error reply instead of a crash. */
  private respond(msg: { respond(data: string): boolean }, pattern: string, reply: unknown): void {
    const text = JSON.stringify(reply ?? null);
    const max = this.o.connection.info?.max_payload ?? 1024 * 1024;
    if (Buffer.byteLength(text) > max - 1024) {
      this.o.logger.warn({ subject: pattern, bytes: Buffer.byteLength(text), max }, 'reply too large');
      msg.respond(
        JSON.stringify({
          error: {
            code: 'ReplyTooLarge',
            reason: `the answer is ${Buffer.byteLength(text)} bytes, more than the server's max_payload of ${max}; ask for less (e.g. a smaller "limit")`,
          },
        }),
      );
      return;
    }
    msg.respond(text);
  }

  private async answer(handler: MessageHandler, pattern: string, data: Uint8Array): Promise<unknown> {
    if (!this.leader || !this.caughtUp) {
      // A standby answers from a state that has read at least what the stream held when asked.
      await this.waitForPosition(await this.lastSeq(), 2_000);
    }
    const result = await handler(data, new NatsRequestContext(pattern));
    return isObservable(result) ? lastValueFrom(result, { defaultValue: null }) : result;
  }
}

/** True for the server's "consumer not found" answer. */
function isConsumerNotFound(e: unknown): boolean {
  return (
    (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound) ||
    (e instanceof Error && /consumer not found/i.test(e.message))
  );
}

/** How deliveries of a consumer with this configuration are acknowledged by this transport. */
function ackModeOf(c: ConsumerConfig): 'all' | 'explicit' {
  return c.ack_policy === AckPolicy.Explicit ? 'explicit' : 'all';
}

/**
 * How a durable consumer's configuration differs from what the service creates (null: it does not);
 * `explicitToo`: an earlier version's explicit acks are accepted as well.
 */
function durableChange(c: ConsumerConfig, explicitToo: boolean): string | null {
  if (c.ack_policy !== AckPolicy.All && !(explicitToo && c.ack_policy === AckPolicy.Explicit))
    return `ack policy ${c.ack_policy}`;
  if (c.filter_subject) return `filter subject ${c.filter_subject}`;
  if (c.filter_subjects && c.filter_subjects.length > 0)
    return `filter subjects ${c.filter_subjects.join(',')}`;
  if (c.deliver_subject) return `push delivery to ${c.deliver_subject}`;
  return null;
}
