/**
 * An append-only event log over one JetStream stream: publish with optimistic concurrency and
 * de-duplication, and replay in stream order.
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions,
  type StoredMsg,
} from '@nats-io/jetstream';
import {
  headers as natsHeaders,
  nanos,
  nuid,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { connectionInbox } from './inbox.js';

export interface AppendOptions {
  /** Sets `Nats-Msg-Id`: a repeat within the stream's duplicate window is acknowledged as `duplicate` and not stored. */
  msgId?: string;
  /** Sets `Nats-Expected-Last-Sequence`: the server stores the message only if the stream's last sequence is this. */
  expectedLastSeq?: number;
  /**
   * Sets `Nats-Expected-Last-Msg-Id`: the server stores the message only if the stream's last message
   * has this `Nats-Msg-Id`. Use it to chain pipelined appends (see {@link EventStore.appendNoWait}).
   */
  expectedLastMsgId?: string;
  /** PubAck timeout in ms; default: the EventStore's `timeoutMs`. */
  timeoutMs?: number;
  /** Extra headers to set on the message. */
  headers?: Record<string, string>;
}

export interface AppendResult {
  /** Stream sequence of the stored message (for a duplicate: of the original). */
  seq: number;
  duplicate: boolean;
}

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** The body. From `read()` this may be a view on a larger buffer: copy it if you keep many. */
  readonly data: Uint8Array;
  /** The `Nats-Msg-Id` header, or null. */
  readonly msgId: string | null;
  /** Time the stream stored the message (server clock, ms precision). */
  readonly time: Date;
  /** `time` as ms since the epoch. */
  readonly timeMs: number;
  readonly headers: MsgHdrs | null;
}

export interface ReadOptions {
  /** First sequence to read (inclusive); default 1. */
  fromSeq?: number;
  /**
   * Last sequence to read (inclusive); default and upper bound: the stream's last sequence when the
   * iteration starts. `read` replays history; it never waits for messages that do not exist yet.
   */
  toSeq?: number;
  /**
   * Unused since reads are pushed (paced by flow control, not by pull batches); accepted so that
   * callers written for the pull read keep compiling.
   */
  batchSize?: number;
}

export interface EventStoreOptions {
  /** Default PubAck / API timeout in ms; default 5000. */
  timeoutMs?: number;
}

/** An append refused because an expectation (`expectedLastSeq` / `expectedLastMsgId`) did not hold: another writer got there first. */
export class AppendConflictError extends Error {}

/** The server refused a message because the stream's last sequence was not `expectedLastSeq`. */
export class WrongLastSequenceError extends AppendConflictError {
  constructor(
    readonly subject: string,
    readonly expectedLastSeq: number,
    /** The stream's actual last sequence, as reported by the server (null if it could not be parsed). */
    readonly actualLastSeq: number | null,
    options?: ErrorOptions,
  ) {
    super(
      `append to ${subject} rejected: expected the stream's last sequence to be ${expectedLastSeq}, ` +
        `but it is ${actualLastSeq ?? 'something else'} (another writer appended first)`,
      options,
    );
    this.name = 'WrongLastSequenceError';
  }
}

/** The server refused a message because the stream's last message did not have `expectedLastMsgId`. */
export class WrongLastMsgIdError extends AppendConflictError {
  constructor(
    readonly subject: string,
    readonly expectedLastMsgId: string,
    serverMessage: string,
    options?: ErrorOptions,
  ) {
    super(
      `append to ${subject} rejected: expected the stream's last message to have Nats-Msg-Id ${JSON.stringify(expectedLastMsgId)} ` +
        `(server: ${serverMessage})`,
      options,
    );
    this.name = 'WrongLastMsgIdError';
  }
}

/** No stream answered the publish (no stream captures the subject, or JetStream is unavailable). */
export class NoStreamForSubjectError extends Error {
  constructor(
    readonly subject: string,
    readonly stream: string,
    options?: ErrorOptions,
  ) {
    super(
      `append to ${subject}: no JetStream stream answered (does stream ${stream} exist and capture this subject? ` +
        `is JetStream enabled on the server?)`,
      options,
    );
    this.name = 'NoStreamForSubjectError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a body: bytes as they are, anything else as UTF-8 JSON. */
export function encodeBody(body: Uint8Array | object): Uint8Array {
  if (body instanceof Uint8Array) return body;
  return encoder.encode(JSON.stringify(body));
}

/** Decodes a UTF-8 JSON body. Throws a SyntaxError when it is not JSON. */
export function decodeJson<T = unknown>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}

const MSG_ID = 'Nats-Msg-Id';
/** Server error code JSStreamWrongLastMsgIDErrF ("wrong last msg ID: ..."); not in nats.js's JetStreamApiCodes. */
const STREAM_WRONG_LAST_MSG_ID = 10070;
/** Server error code JSStreamNotMatchErr ("expected stream does not match"): Nats-Expected-Stream failed. */
const STREAM_NOT_MATCH = 10060;

function fromStoredMsg(m: StoredMsg): StoredMessage {
  const h = m.header ?? null;
  const id = h?.get(MSG_ID);
  return {
    seq: m.seq,
    subject: m.subject,
    data: m.data,
    msgId: id ? id : null,
    time: m.time,
    timeMs: m.time.getTime(),
    headers: h && h.keys().length > 0 ? h : null,
  };
}

function parseWrongLastSeq(err: JetStreamApiError): number | null {
  const match = /wrong last sequence:\s*(\d+)/i.exec(err.message);
  return match ? Number(match[1]) : null;
}

export class EventStore {
  readonly js: JetStreamClient;
  private jsmPromise: Promise<JetStreamManager> | null = null;
  private readonly timeoutMs: number;

  constructor(
    readonly nc: NatsConnection,
    readonly stream: string = 'IPAM',
    opts: EventStoreOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
  }

  private jsm(): Promise<JetStreamManager> {
    if (!this.jsmPromise) {
      this.jsmPromise = jetstreamManager(this.nc, { timeout: this.timeoutMs, checkAPI: false });
      this.jsmPromise.catch(() => {
        this.jsmPromise = null;
      });
    }
    return this.jsmPromise;
  }

  /**
   * Appends one message and resolves with its PubAck. The message is written to the connection
   * synchronously, before this returns, so calls are stored in call order and many can be in
   * flight at once (see {@link appendNoWait}).
   *
   * Rejects with {@link WrongLastSequenceError} when `expectedLastSeq` does not match, and with
   * {@link NoStreamForSubjectError} when no stream takes the subject. A repeated `msgId` within the
   * duplicate window resolves with `duplicate: true` and the original's sequence; the server checks
   * duplicates before `expectedLastSeq`, so a retry of an already-stored message is a duplicate,
   * not a sequence error.
   */
  append(subject: string, body: Uint8Array | object, opts: AppendOptions = {}): Promise<AppendResult> {
    return this.appendNoWait(subject, body, opts);
  }

  /**
   * Pipelined append: puts the message on the wire now (synchronously) and returns the promise of
   * its PubAck without waiting. Call it in a loop and await the promises later to keep many PubAcks
   * in flight; they are stored in call order.
   *
   * Fencing a pipelined chain: `expectedLastSeq` = n, n+1, n+2, ... alone is NOT enough. If another
   * writer appends one message first, message 0 (expecting n) fails but message 1 (expecting n+1) now
   * matches the intruder's sequence and is stored on top of it, and so is the rest of the chain. To
   * make every message after a conflict fail, give each message a `msgId` and set, for message i > 0,
   * `expectedLastMsgId` = msgId of message i-1 (together with `expectedLastSeq` = n+i).
   */
  appendNoWait(subject: string, body: Uint8Array | object, opts: AppendOptions = {}): Promise<AppendResult> {
    let payload: Uint8Array;
    try {
      payload = encodeBody(body);
    } catch (err) {
      return Promise.reject(err);
    }
    const po: Partial<JetStreamPublishOptions> = {
      timeout: opts.timeoutMs ?? this.timeoutMs,
      expect: { streamName: this.stream },
    };
    if (opts.msgId !== undefined) po.msgID = opts.msgId;
    if (opts.expectedLastSeq !== undefined) po.expect = { ...po.expect, lastSequence: opts.expectedLastSeq };
    if (opts.expectedLastMsgId !== undefined) po.expect = { ...po.expect, lastMsgID: opts.expectedLastMsgId };
    if (opts.headers) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(opts.headers)) h.set(k, v);
      po.headers = h;
    }
    // js.publish sends synchronously (its first await comes after nc.request has written the PUB).
    return this.js.publish(subject, payload, po).then(
      (pa) => ({ seq: pa.seq, duplicate: pa.duplicate === true }),
      (err: unknown) => {
        throw this.mapPublishError(err, subject, opts);
      },
    );
  }

  private mapPublishError(err: unknown, subject: string, opts: AppendOptions): unknown {
    if (err instanceof JetStreamApiError) {
      if (
        err.code === JetStreamApiCodes.StreamWrongLastSequence ||
        err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
      ) {
        return new WrongLastSequenceError(subject, opts.expectedLastSeq ?? -1, parseWrongLastSeq(err), {
          cause: err,
        });
      }
      if (err.code === STREAM_WRONG_LAST_MSG_ID) {
        return new WrongLastMsgIdError(subject, opts.expectedLastMsgId ?? '', err.message, { cause: err });
      }
      if (err.code === STREAM_NOT_MATCH) {
        return new Error(
          `append to ${subject}: the subject is stored by another stream than ${this.stream} (server: ${err.message})`,
          { cause: err },
        );
      }
    }
    // nats.js reports "no responders" on a JetStream publish as JetStreamNotEnabled, which is misleading.
    // (JetStreamNotEnabled is not exported from the package entry point, so match it by name.)
    if (err instanceof Error && err.name === 'JetStreamNotEnabled') {
      return new NoStreamForSubjectError(subject, this.stream, { cause: err });
    }
    return err;
  }

  /** The stream's last sequence (0 when empty). */
  async lastSeq(): Promise<number> {
    const jsm = await this.jsm();
    const info = await jsm.streams.info(this.stream);
    return info.state.last_seq;
  }

  /** The message at `seq`, or null when there is none (never stored, or deleted). Reads from the stream leader. */
  async getMessage(seq: number): Promise<StoredMessage | null> {
    const jsm = await this.jsm();
    const sm = await jsm.streams.getMessage(this.stream, { seq });
    return sm ? fromStoredMsg(sm) : null;
  }

  /**
   * Replays messages `fromSeq..toSeq` in stream order through an ordered push consumer: ephemeral,
   * memory-backed, no acks, flow-controlled, delivering to an inbox of this connection. A gap in its
   * delivery sequence (a lost message), a lost consumer or a stalled delivery restarts it after the
   * last message read, so the iteration stays complete and in order. The consumer is created when the
   * iteration starts and deleted when it ends or the caller breaks out (it also expires on its own).
   * Each message's headers are decoded when `msgId` or `headers` is first read.
   */
  read(opts: ReadOptions = {}): AsyncIterable<StoredMessage> {
    const batches = this.readBatches(opts);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const batch of batches) yield* batch;
      },
    };
  }

  /**
   * {@link read}, a batch at a time: each batch holds the messages that arrived since the previous one
   * (at most {@link READ_BATCH_MAX}, never empty), in stream order. One step of an async iteration per
   * batch instead of per message: the way to read a long stream fast.
   */
  readBatches(opts: ReadOptions = {}): AsyncIterable<StoredMessage[]> {
    return { [Symbol.asyncIterator]: () => this.batchIterator(opts) };
  }

  private async *batchIterator(opts: ReadOptions): AsyncGenerator<StoredMessage[], void, undefined> {
    const fromSeq = Math.max(1, opts.fromSeq ?? 1);
    const jsm = await this.jsm();
    const info = await jsm.streams.info(this.stream);
    const last = info.state.last_seq;
    const toSeq = Math.min(opts.toSeq ?? last, last);
    if (toSeq < fromSeq || info.state.messages === 0) return;
    let next = Math.max(fromSeq, info.state.first_seq);
    const ack: AckInfo = { sseq: 0, cseq: 0, timeMs: 0, pending: 0 };
    let batch: StoredMessage[] = [];
    while (next <= toSeq) {
      const feed = new ReadFeed(this.nc, jsm, this.stream);
      try {
        await feed.start(next);
        for (;;) {
          const m = feed.take();
          if (m === undefined) {
            if (batch.length > 0) {
              yield batch;
              batch = [];
            }
            if (await feed.arrival()) continue;
            if (feed.error) throw feed.error;
            break; // nothing at all for too long (not even a heartbeat): start again
          }
          const reply = m.reply ?? '';
          if (!reply.startsWith(ACK_PREFIX)) {
            if (batch.length > 0) {
              yield batch;
              batch = [];
            }
            const status = await feed.status(m);
            if (status === 'restart') break;
            if (status === 'end') return;
            continue;
          }
          if (!parseAckReply(reply, ack)) {
            if (batch.length > 0) yield batch; // what was read before it is handed over first
            throw new Error(`read from stream ${this.stream}: unexpected reply subject ${reply}`);
          }
          if (ack.cseq !== feed.delivered + 1) break; // a message was lost: start again after the last one read
          feed.delivered = ack.cseq;
          const seq = ack.sseq;
          if (seq > toSeq) {
            next = toSeq + 1; // the rest of the range was deleted
            break;
          }
          if (seq < next) continue;
          next = seq + 1;
          batch.push(new ReadMessage(m, seq, ack.timeMs));
          // `pending` is what the stream holds after this message: 0 means nothing more to read
          // (the remaining sequences up to toSeq were deleted).
          if (seq >= toSeq || ack.pending === 0) {
            next = toSeq + 1;
            break;
          }
          if (batch.length >= READ_BATCH_MAX) {
            yield batch;
            batch = [];
          }
        }
      } finally {
        feed.close();
      }
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
  }
}

/** The most messages in one batch of {@link EventStore.readBatches}. */
export const READ_BATCH_MAX = 4096;

/** A message of a read: headers decoded and the time made a Date only when asked for. */
class ReadMessage implements StoredMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  constructor(
    private readonly msg: Msg,
    readonly seq: number,
    readonly timeMs: number,
  ) {
    this.subject = msg.subject;
    this.data = msg.data;
  }

  get msgId(): string | null {
    const id = this.msg.headers?.get(MSG_ID);
    return id ? id : null;
  }

  get time(): Date {
    return new Date(this.timeMs);
  }

  get headers(): MsgHdrs | null {
    return this.msg.headers ?? null;
  }
}

const ACK_PREFIX = '$JS.ACK.';

interface AckInfo {
  /** stream sequence */
  sseq: number;
  /** consumer (delivery) sequence */
  cseq: number;
  /** stream timestamp in ms (the nanoseconds without their last six digits) */
  timeMs: number;
  /** messages left for the consumer after this one */
  pending: number;
}

const dots = new Int32Array(12);

/**
 * The decimal number reply[from, to) (at most 15 digits, so exact), or -1 when it is empty, longer
 * or holds anything but digits. Reads the text in place: no substring per token.
 */
function decimalAt(reply: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = reply.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Parses the reply subject of a delivered message into `out` without splitting it:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tsNanos>.<pending>`, or (servers 2.10+)
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tsNanos>.<pending>[.<token>]`.
 */
function parseAckReply(reply: string, out: AckInfo): boolean {
  let n = 0;
  for (let i = reply.indexOf('.'); i !== -1 && n < dots.length; i = reply.indexOf('.', i + 1)) dots[n++] = i;
  // 9 tokens (8 dots), or 11 / 12 (10 / 11 dots); token j + 1 lies between dots[j] and dots[j + 1]
  let k: number;
  if (n === 8) k = 4;
  else if (n === 10 || n === 11) k = 6;
  else return false;
  out.sseq = decimalAt(reply, dots[k] + 1, dots[k + 1]);
  out.cseq = decimalAt(reply, dots[k + 1] + 1, dots[k + 2]);
  // nanoseconds since the epoch have 19 digits: the ms are all but the last 6
  const tsFrom = dots[k + 2] + 1;
  const tsTo = dots[k + 3];
  const sub = decimalAt(reply, Math.max(tsFrom, tsTo - 6), tsTo); // the sub-millisecond digits
  out.timeMs = sub < 0 ? -1 : tsTo - tsFrom > 6 ? decimalAt(reply, tsFrom, tsTo - 6) : 0;
  out.pending = decimalAt(reply, dots[k + 3] + 1, k + 4 < n ? dots[k + 4] : reply.length);
  return out.sseq >= 0 && out.cseq >= 0 && out.timeMs >= 0 && out.pending >= 0;
}

/** Idle heartbeat of a read's consumer: sent when it has had nothing to deliver for this long (ms). */
const READ_HEARTBEAT_MS = 2000;
/** Nothing at all (no message, no heartbeat) for this long while waiting: the consumer is gone (ms). */
const READ_STALL_MS = 3 * READ_HEARTBEAT_MS;
/** A read's consumer left behind (a reader that died) is removed by the server after this (ms). */
const READ_INACTIVE_MS = 30_000;

/**
 * One ephemeral push consumer of a read and the inbox it delivers to. Messages are queued as they
 * arrive and taken in order; a flow-control request is answered when the reader takes it, so the
 * server never runs further ahead of the reader than one flow-control window.
 */
class ReadFeed {
  /** consumer sequence of the last data message taken */
  delivered = 0;
  /** the subscription failed (e.g. no permission for the inbox) */
  error: Error | null = null;
  /** under the connection's inbox prefix: a user may be allowed to receive on its own prefix only */
  private readonly inbox: string;
  private sub: Subscription | null = null;
  private consumer: string | null = null;
  private queue: Msg[] = [];
  private head = 0;
  private waiter: ((arrived: boolean) => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {
    this.inbox = connectionInbox(nc);
  }

  async start(startSeq: number): Promise<void> {
    this.sub = this.nc.subscribe(this.inbox, {
      callback: (err, m) => {
        if (err) {
          this.error = err;
          this.wake(false);
        } else {
          this.queue.push(m);
          this.wake(true);
        }
      },
    });
    const ci = await this.jsm.consumers.add(this.stream, {
      // Named (created through CONSUMER.CREATE.<stream>.<name>): permissions can then allow readers
      // to create consumers while denying the durable's name (deploy/nats/ipam-users.conf).
      name: `read_${nuid.next()}`,
      deliver_subject: this.inbox,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
      ack_policy: AckPolicy.None,
      flow_control: true,
      idle_heartbeat: nanos(READ_HEARTBEAT_MS),
      inactive_threshold: nanos(READ_INACTIVE_MS),
      mem_storage: true,
      num_replicas: 1,
    });
    this.consumer = ci.name;
    if (this.closed) this.deleteConsumer();
  }

  /** The next message received and not taken yet (data or status), if any; answers flow control on the way. */
  take(): Msg | undefined {
    while (this.head < this.queue.length) {
      const m = this.queue[this.head++];
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      const reply = m.reply;
      if (reply && !reply.startsWith(ACK_PREFIX)) {
        m.respond(); // a flow-control request
        continue;
      }
      return m;
    }
    return undefined;
  }

  /** Resolves true when a message arrives, false after READ_STALL_MS of silence or on a subscription error. */
  arrival(): Promise<boolean> {
    if (this.error !== null || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => this.wake(false), READ_STALL_MS);
    });
  }

  /**
   * A status message (an idle heartbeat): `restart` when the consumer delivered messages this read
   * has not seen, `end` when it has nothing more to deliver, else `go` on.
   */
  async status(m: Msg): Promise<'restart' | 'end' | 'go'> {
    const h = m.headers;
    if (!h) return 'go';
    const stalled = h.get('Nats-Consumer-Stalled');
    if (stalled) {
      this.nc.publish(stalled); // a flow-control answer that got lost
      return 'go';
    }
    const last = Number(h.get('Nats-Last-Consumer'));
    if (last > this.delivered) return 'restart';
    if (this.head < this.queue.length || this.consumer === null) return 'go';
    // Idle, every delivered message read: finished when the consumer has nothing pending (the rest of
    // the range was deleted and nothing follows it).
    try {
      const ci = await this.jsm.consumers.info(this.stream, this.consumer);
      return ci.num_pending === 0 && ci.delivered.consumer_seq === this.delivered ? 'end' : 'go';
    } catch {
      return 'restart';
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake(false);
    this.sub?.unsubscribe();
    this.deleteConsumer();
  }

  private wake(arrived: boolean): void {
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    w(arrived);
  }

  private deleteConsumer(): void {
    if (this.consumer === null) return;
    const name = this.consumer;
    this.consumer = null;
    this.jsm.consumers.delete(this.stream, name).catch(() => {
      // best effort: the consumer also expires on its own (inactive_threshold)
    });
  }
}
