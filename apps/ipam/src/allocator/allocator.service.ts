/**
 * The allocator: publish / ack / lease glue around the in-order fold (InputLedger).
 *
 * Every instance reads the whole stream. Inputs wait in the ledger in stream order; each is decided with
 * this build at its turn, and its answer is the first stored outcome equal to that decision (applied to
 * the state); any other stored outcome is refused: logged, counted, never applied. So a forged outcome
 * never changes the state, whoever published it.
 *
 * While this instance leads and has read the stream as of taking the lead, it claims the head: applies
 * its decision at once, publishes it with `Nats-Msg-Id: <stream>:outcome:<seq>` (the same on every
 * instance and retry, so JetStream stores it once), and acks the input once stored. When a refused
 * outcome holds that id (someone published under it first, so JetStream dropped ours as a duplicate),
 * it publishes the same outcome again under `<id>:r1`, `<id>:r2`, ... until one is stored.
 */
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { StreamAck, StreamPublisher } from '../../../../libs/jetstream/src/index.js';
import {
  evolve,
  initialState,
  IpamCommand,
  IpamEvent,
  IpamState,
} from '../../../../libs/ipam-domain/src/index.js';
import { causationOf, decideAnswer } from '../../../../libs/ipam-audit/src/index.js';
import type { JetStreamContext } from '../../../../libs/nest-jetstream/src/index.js';
import {
  CLAIMED,
  InputLedger,
  outcomeMsgId,
  outcomeSubject,
  SETTLED,
  type LedgerEntry,
  type LedgerJudge,
  type RefusalReason,
} from '../../../../libs/ipam-contract/src/index.js';
import { IPAM_CONFIG, IPAM_LOGGER, OUTCOME_PUBLISHER } from '../tokens.js';
import type { IpamEnv } from '../config/ipam.config.js';
import type { AppLogger } from '../logging/logger.js';
import { AuditService } from '../audit/audit.service.js';
import { AllocatorMetrics } from './allocator.metrics.js';
import type { StateSnapshots } from './snapshots.js';

type Entry = LedgerEntry<IpamCommand, IpamEvent, JetStreamContext>;

/** Message ids of one input's outcome known to be taken by refused outcomes. */
interface Retry {
  /** the id to publish under: 0 the deterministic id, k its `:r<k>` */
  attempt: number;
  /** the last attempt this instance published, -1 for none */
  published: number;
  /** ids beyond `attempt` already taken */
  taken: Set<number> | null;
}

const decoder = new TextDecoder();
const RETRY_SUFFIX = /^:r[1-9][0-9]{0,8}$/;

/** The attempt of a message id for the outcome whose first id is `base`: 0, k for `:r<k>`, else -1. */
function attemptOf(msgId: string | null, base: string): number {
  if (msgId === null || !msgId.startsWith(base)) return -1;
  if (msgId.length === base.length) return 0;
  const rest = msgId.slice(base.length);
  return RETRY_SUFFIX.test(rest) ? Number(rest.slice(2)) : -1;
}

/**
 * The latest outcomes by input sequence, for a caller that asks after its outcome arrived: the last
 * 5,000 to 10,000, in two generations (dropping the oldest entry of one map at each insert makes V8 walk
 * the deleted slots at its front every time).
 */
class RecentOutcomes {
  private fresh = new Map<number, IpamEvent>();
  private old = new Map<number, IpamEvent>();

  get(seq: number): IpamEvent | undefined {
    return this.fresh.get(seq) ?? this.old.get(seq);
  }

  has(seq: number): boolean {
    return this.fresh.has(seq) || this.old.has(seq);
  }

  set(seq: number, event: IpamEvent): void {
    if (this.fresh.size >= 5_000) {
      this.old = this.fresh;
      this.fresh = new Map();
    }
    this.fresh.set(seq, event);
  }

  clear(): void {
    this.fresh.clear();
    this.old.clear();
  }
}

export interface Resetter {
  requestReset(reason: string): void;
}

@Injectable()
export class AllocatorService
  implements OnModuleInit, OnModuleDestroy, LedgerJudge<IpamCommand, IpamEvent, JetStreamContext>
{
  state: IpamState = initialState();

  private readonly ledger = new InputLedger<IpamCommand, IpamEvent, JetStreamContext>(this);
  /** inputs whose outcome id was taken by a refused outcome, by sequence */
  private readonly retries = new Map<number, Retry>();
  /** acks of inputs read through the durable consumer while they wait for their turn, by sequence */
  private readonly acks = new Map<number, () => void>();
  private live = false;
  private resetter: Resetter | null = null;
  /** fencing: may this instance act as the decider right now (lease still valid)? */
  private mayAct: () => boolean = () => true;
  /** stream sequence of the last input applied */
  lastAnswered = 0;
  /** callers waiting for the outcome of an input (HTTP API), and the most recent outcomes */
  private readonly waiters = new Map<number, Array<(e: IpamEvent) => void>>();
  private readonly recent = new RecentOutcomes();
  private deciding = 0;
  /** snapshots written in the background and loaded at start (null: none) */
  private snapshots: StateSnapshots | null = null;
  /** the snapshot the state was last restored from (0: none, the stream read from its start) */
  restoredSeq = 0;
  /** the last stream sequence read (input or outcome) */
  readSeq = 0;

  constructor(
    @Inject(OUTCOME_PUBLISHER) private readonly publisher: StreamPublisher,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
    @Inject(IPAM_LOGGER) private readonly logger: AppLogger,
    private readonly metrics: AllocatorMetrics,
    private readonly audit: AuditService,
  ) {}

  private wake: NodeJS.Timeout | null = null;

  onModuleInit(): void {
    // Inputs that arrived while the lease was briefly not valid wait in the ledger; when it is valid
    // again without a change of leader, no message may come along to drain them.
    this.wake = setInterval(() => {
      if (this.live && (this.pendingCount > 0 || this.retries.size > 0) && this.mayAct()) this.drain();
    }, 500);
    this.wake.unref();
  }

  onModuleDestroy(): void {
    if (this.wake) clearInterval(this.wake);
    this.snapshots?.stop();
  }

  attach(resetter: Resetter, mayAct?: () => boolean): void {
    this.resetter = resetter;
    if (mayAct) this.mayAct = mayAct;
  }

  /** Snapshots to write after messages read (see snapshots.ts). */
  useSnapshots(snapshots: StateSnapshots): void {
    this.snapshots = snapshots;
    snapshots.watchIdle(this, () => this.mayAct());
  }

  /** The state was restored from a snapshot covering the stream up to `seq` (0: none). */
  restored(seq: number): void {
    this.restoredSeq = seq;
    this.readSeq = seq;
  }

  /** Every input read so far has its answer stored and read back: the state is the fold of what was read. */
  get quiet(): boolean {
    return this.ledger.waiting === 0 && this.retries.size === 0 && !this.ledger.anyUnconfirmed;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** inputs waiting for their answer */
  get pendingCount(): number {
    return this.ledger.waiting;
  }

  /** This instance leads and has read the stream as of taking the lead: decide what waits. */
  onCaughtUp(): void {
    this.live = true;
    const folded = this.readSeq - this.restoredSeq;
    this.logger.info(
      {
        pending: this.pendingCount,
        lastAnswered: this.lastAnswered,
        snapshotSeq: this.restoredSeq,
        folded,
      },
      this.restoredSeq > 0
        ? `deciding: loaded snapshot at seq ${this.restoredSeq}, folded ${folded} events after it`
        : `deciding: folded ${folded} events from the start of the stream`,
    );
    this.drain();
  }

  onLeadership(leader: boolean): void {
    if (!leader) this.live = false;
  }

  /** The stream is read again from its start: forget everything. */
  reset(reason: string): void {
    this.logger.warn({ reason }, 'state discarded; rebuilding from the stream');
    this.state = initialState();
    this.ledger.clear();
    this.retries.clear();
    for (const ack of this.acks.values()) ack();
    this.acks.clear();
    this.recent.clear();
    this.live = false;
    this.lastAnswered = 0;
    this.restoredSeq = 0;
    this.readSeq = 0;
  }

  /** An input event read from the stream. */
  onInput(command: IpamCommand, ctx: JetStreamContext): void {
    this.readSeq = ctx.seq;
    this.ledger.push(ctx.seq, ctx.subject, command);
    if (this.live && this.ledger.waiting === 1 && this.mayAct()) {
      const started = performance.now();
      const entry = this.ledger.claimHead();
      if (entry !== null) {
        ctx.ackAfter(this.publishClaimed(entry, started));
        return;
      }
    }
    if (this.live) {
      const seq = ctx.seq;
      ctx.ackAfter(new Promise<void>((resolve) => this.acks.set(seq, resolve)));
      this.drain();
    }
  }

  /** An outcome event read from the stream. */
  onOutcome(data: Uint8Array, ctx: JetStreamContext): void {
    this.readSeq = ctx.seq;
    const text = decoder.decode(data);
    if (!this.ledger.offerText(ctx.seq, ctx.subject, text, ctx))
      this.ledger.offer(causationOf(text), ctx.seq, ctx.subject, text, ctx);
    if (this.live && this.ledger.waiting > 0) this.drain();
    // a snapshot is taken only here: where the state may be exactly the fold of the stream so far
    if (this.snapshots !== null) this.snapshots.after(ctx.seq, this, this.mayAct());
  }

  /** Resolves with the accepted outcome of the input at `seq` (or null after `timeoutMs`). */
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

  // --- the ledger's judge -------------------------------------------------------------------------

  decide(seq: number, command: IpamCommand): IpamEvent {
    this.deciding = seq;
    return decideAnswer(command, this.state, this.decideFailed);
  }

  subjectOf(answer: IpamEvent): string {
    return outcomeSubject(answer);
  }

  textOf(answer: IpamEvent): string {
    return JSON.stringify(answer.data);
  }

  accepted(entry: Entry, outcomeSeq: number, ctx: JetStreamContext, claimed: boolean): void {
    const answer = entry.answer as IpamEvent;
    if (!claimed) {
      evolve(this.state, answer);
      this.lastAnswered = entry.seq;
    }
    if (this.retries.size > 0) this.retries.delete(entry.seq);
    if (!claimed || !this.recent.has(entry.seq)) this.answered(entry.seq, answer);
    if (this.acks.size > 0) this.releaseAck(entry.seq);
    this.audit.accepted(outcomeSeq, ctx.info.time.getTime(), answer);
  }

  refused(
    entry: Entry | null,
    outcomeSeq: number,
    subject: string,
    text: string,
    ctx: JetStreamContext,
    reason: RefusalReason,
  ): void {
    this.metrics.refused.inc({ subject, reason });
    const msgId = ctx.info.msgId;
    const open = entry !== null && entry.state !== SETTLED;
    this.logger.warn(
      {
        seq: outcomeSeq,
        subject,
        msgId,
        reason,
        causationSeq: open ? entry.seq : causationOf(text),
        stored: text.length > 400 ? `${text.slice(0, 400)}...` : text,
        ...(reason === 'differs' && open ? { decided: entry.answerText } : {}),
      },
      reason === 'differs'
        ? 'refused a stored outcome that is not this build decision for its input; it is not applied'
        : reason === 'stale'
          ? 'refused a stored outcome whose input is already answered or is not an input'
          : 'refused a stored outcome that names no input',
    );
    if (!open) return;
    const attempt = attemptOf(msgId, outcomeMsgId(this.config.IPAM_STREAM, entry.seq));
    if (attempt >= 0) this.idTaken(entry, attempt);
  }

  // --- deciding and publishing --------------------------------------------------------------------

  private readonly decideFailed = (e: unknown): void => {
    // A bug, not bad input: decideAnswer answers InternalError.
    this.logger.error({ seq: this.deciding, err: String(e), stack: (e as Error).stack }, 'decide failed');
  };

  /** Claim and publish every waiting input in order (only while live and the lease holds). */
  private drain(): void {
    if (this.retries.size > 0) this.republishTaken();
    while (this.live && this.ledger.waiting > 0 && this.mayAct()) {
      const started = performance.now();
      const entry = this.ledger.claimHead();
      if (entry === null) break;
      const seq = entry.seq;
      this.publishClaimed(entry, started).then(
        () => this.releaseAck(seq),
        (e) => this.resetter?.requestReset(`publishing the outcome of seq ${seq} failed: ${String(e)}`),
      );
    }
  }

  /** Applies a claimed decision and publishes it; resolves once JetStream answered. */
  private publishClaimed(entry: Entry, started: number): Promise<StreamAck> {
    const answer = entry.answer as IpamEvent;
    evolve(this.state, answer);
    this.lastAnswered = entry.seq;
    this.logDecision(entry.seq, answer);
    this.metrics.decided(entry.answerSubject, answer, performance.now() - started);
    const r = this.retries.size > 0 ? this.retries.get(entry.seq) : undefined;
    if (r === undefined) return this.send(entry, 0);
    r.published = r.attempt;
    return this.send(entry, r.attempt);
  }

  private send(entry: Entry, attempt: number): Promise<StreamAck> {
    const base = outcomeMsgId(this.config.IPAM_STREAM, entry.seq);
    const msgID = attempt === 0 ? base : `${base}:r${attempt}`;
    return this.publisher.publish(entry.answerSubject, entry.answerText, msgID).then((ack) => {
      if (!ack.duplicate) this.answered(entry.seq, entry.answer as IpamEvent);
      else if (ack.seq < entry.seq && entry.state === CLAIMED) {
        // the id was taken by a message stored before the input: never its answer. One stored
        // after it is judged when read (confirmed if it is this answer, else refused, and then taken).
        this.idTaken(entry, attempt);
      }
      return ack;
    });
  }

  /** `attempt`'s id of the input's outcome is held by a message that is not its answer. */
  private idTaken(entry: Entry, attempt: number): void {
    let r = this.retries.get(entry.seq);
    if (r === undefined) {
      r = { attempt: 0, published: entry.state === CLAIMED ? 0 : -1, taken: null };
      this.retries.set(entry.seq, r);
    }
    if (attempt > r.attempt) {
      (r.taken ??= new Set()).add(attempt);
      return;
    }
    if (attempt < r.attempt) return;
    r.attempt++;
    while (r.taken?.has(r.attempt)) r.attempt++;
    if (entry.state === CLAIMED && this.live && this.mayAct()) this.republish(entry, r);
  }

  /** Publishes claimed outcomes whose current id was taken since they were last published. */
  private republishTaken(): void {
    if (!this.live || !this.mayAct()) return;
    for (const [seq, r] of this.retries) {
      if (r.published === r.attempt) continue;
      const entry = this.ledger.find(seq);
      if (entry?.state === CLAIMED) this.republish(entry, r);
    }
  }

  private republish(entry: Entry, r: Retry): void {
    r.published = r.attempt;
    this.logger.warn(
      { seq: entry.seq, attempt: r.attempt },
      'publishing this instance outcome again under a retry id: a refused outcome holds the id it used',
    );
    this.send(entry, r.attempt).catch((e) =>
      this.resetter?.requestReset(`publishing the outcome of seq ${entry.seq} again failed: ${String(e)}`),
    );
  }

  private releaseAck(seq: number): void {
    const ack = this.acks.get(seq);
    if (ack === undefined) return;
    this.acks.delete(seq);
    ack();
  }

  private answered(seq: number, event: IpamEvent): void {
    this.recent.set(seq, event);
    const list = this.waiters.get(seq);
    if (list) {
      this.waiters.delete(seq);
      for (const w of list) w(event);
    }
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
