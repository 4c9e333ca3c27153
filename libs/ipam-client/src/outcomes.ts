/**
 * Reading outcomes from the stream: decoding one, following them from a sequence, and waiting for
 * the outcome of an input (the outcome whose causationSeq is the input's sequence; it is always
 * stored after its input).
 */
import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { EVENT_TYPE_BY_SUBJECT, type OutcomeSubject } from '../../ipam-contract/src/index.js';
import { EventStore } from '../../jetstream/src/index.js';
import type { Outcome } from './types.js';

const decoder = new TextDecoder();

/**
 * The outcome a stored message is, or null: an input, a subject the contract does not know, or a
 * body without a numeric causationSeq.
 */
export function decodeOutcome(
  seq: number,
  subject: string,
  data: Uint8Array,
  timeMs: number,
): Outcome | null {
  if (!Object.prototype.hasOwnProperty.call(EVENT_TYPE_BY_SUBJECT, subject)) return null;
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as { causationSeq?: unknown }).causationSeq !== 'number'
  )
    return null;
  return {
    seq,
    subject: subject as OutcomeSubject,
    type: EVENT_TYPE_BY_SUBJECT[subject],
    body,
    timeMs,
  } as Outcome;
}

function fromJsMsg(m: JsMsg): Outcome | null {
  return decodeOutcome(m.seq, m.subject, m.data, m.time.getTime());
}

/** A live read of the stream from a sequence (an ordered consumer): every message, in order. */
interface Feed {
  messages: AsyncIterable<JsMsg>;
  stop(): void;
}

async function openFeed(js: JetStreamClient, stream: string, fromSeq: number): Promise<Feed> {
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, fromSeq),
  });
  const messages = await consumer.consume({ max_messages: 256 });
  let stopped = false;
  return {
    messages,
    stop() {
      if (stopped) return;
      stopped = true;
      messages.stop();
      consumer.delete().catch(() => undefined);
    },
  };
}

/**
 * Every outcome stored from `fromSeq` on, in stream order, waiting for new ones; ends when the caller
 * breaks out (or the connection closes).
 */
export async function* followOutcomes(
  js: JetStreamClient,
  stream: string,
  fromSeq: number,
): AsyncGenerator<Outcome, void, undefined> {
  const feed = await openFeed(js, stream, fromSeq);
  try {
    for await (const m of feed.messages) {
      const o = fromJsMsg(m);
      if (o !== null) yield o;
    }
  } finally {
    feed.stop();
  }
}

/** Outcomes seen while publishes were in flight, kept for a wait that registers after they passed. */
const SEEN_MAX = 10_000;
/** How long the shared read lingers after its last wait (a pipeline publishes again soon). */
const LINGER_MS = 2_000;

type Resolve = (o: Outcome | null) => void;

/**
 * Waits for outcomes through one shared read of the stream, however many inputs are waited for at a
 * time. The read starts at the first wait's input and stops a moment after the last wait ends.
 * Outcomes that pass while a publish is in flight are kept (up to SEEN_MAX), since the outcome of an
 * input can be stored before its publisher has read the PubAck; an outcome the read passed and did
 * not keep is looked up in the stream.
 */
export class OutcomeWaiter {
  private readonly waiters = new Map<number, Resolve[]>();
  private readonly seen = new Map<number, Outcome>();
  private inflight = 0;
  private feed: Feed | null = null;
  private feedStarting: Promise<void> | null = null;
  /** the next sequence the shared read delivers */
  private nextSeq = 0;
  private linger: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly store: EventStore,
    private readonly stream: string,
  ) {}

  /** Marks a publish in flight until the returned function is called (see the class comment). */
  beginPublish(): () => void {
    this.inflight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inflight--;
      this.idleCheck();
    };
  }

  /** The outcome of the input at `seq`, or null after `timeoutMs`. */
  wait(seq: number, timeoutMs: number): Promise<Outcome | null> {
    const known = this.seen.get(seq);
    if (known !== undefined) {
      this.seen.delete(seq);
      return Promise.resolve(known);
    }
    return new Promise<Outcome | null>((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish: Resolve = (o) => {
        clearTimeout(timer);
        this.removeWaiter(seq, finish);
        resolve(o);
      };
      const list = this.waiters.get(seq);
      if (list === undefined) this.waiters.set(seq, [finish]);
      else list.push(finish);
      if (this.linger !== null) {
        clearTimeout(this.linger);
        this.linger = null;
      }
      if (this.feed === null && this.feedStarting === null) this.startFeed(seq + 1);
      else if (this.nextSeq > seq + 1) void this.lookBack(seq, this.nextSeq - 1);
    });
  }

  close(): void {
    this.closed = true;
    this.stopFeed();
    for (const list of [...this.waiters.values()]) for (const w of [...list]) w(null);
    this.seen.clear();
  }

  private removeWaiter(seq: number, w: Resolve): void {
    const list = this.waiters.get(seq);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiters.delete(seq);
    this.idleCheck();
  }

  private deliver(o: Outcome): void {
    const seq = o.body.causationSeq;
    const list = this.waiters.get(seq);
    if (list !== undefined) {
      for (const w of [...list]) w(o);
      return;
    }
    if (this.inflight > 0) {
      if (this.seen.size >= SEEN_MAX) this.seen.delete(this.seen.keys().next().value as number);
      this.seen.set(seq, o);
    }
  }

  private startFeed(fromSeq: number): void {
    if (this.closed) return;
    this.nextSeq = fromSeq;
    this.feedStarting = (async () => {
      let feed: Feed;
      try {
        feed = await openFeed(this.js, this.stream, fromSeq);
      } catch {
        this.feedStarting = null;
        return; // the waits time out; the next wait tries again
      }
      this.feedStarting = null;
      if (this.closed || this.waiters.size === 0) {
        feed.stop();
        this.idleCheck();
        return;
      }
      this.feed = feed;
      try {
        for await (const m of feed.messages) {
          this.nextSeq = m.seq + 1;
          const o = fromJsMsg(m);
          if (o !== null) this.deliver(o);
        }
      } catch {
        // the read failed: a wait still pending starts another
      } finally {
        feed.stop();
        if (this.feed === feed) this.feed = null;
      }
      if (!this.closed && this.waiters.size > 0) this.startFeed(Math.min(...this.waiters.keys()) + 1);
    })();
  }

  /** Looks for the outcome of `seq` among the messages the shared read passed, up to `toSeq`. */
  private async lookBack(seq: number, toSeq: number): Promise<void> {
    try {
      for await (const batch of this.store.readBatches({ fromSeq: seq + 1, toSeq })) {
        if (!this.waiters.has(seq)) return;
        for (const m of batch) {
          const o = decodeOutcome(m.seq, m.subject, m.data, m.timeMs);
          if (o !== null && o.body.causationSeq === seq) {
            this.deliver(o);
            return;
          }
        }
      }
    } catch {
      // the wait times out
    }
  }

  private idleCheck(): void {
    if (this.waiters.size > 0 || this.inflight > 0 || this.linger !== null) return;
    this.seen.clear();
    if (this.feed === null) return;
    this.linger = setTimeout(() => {
      this.linger = null;
      if (this.waiters.size === 0 && this.inflight === 0) this.stopFeed();
    }, LINGER_MS);
    this.linger.unref?.();
  }

  private stopFeed(): void {
    if (this.linger !== null) {
      clearTimeout(this.linger);
      this.linger = null;
    }
    this.feed?.stop();
    this.feed = null;
  }
}
