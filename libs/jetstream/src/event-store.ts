/**
 * An append-only event log over one JetStream stream: publish with optimistic concurrency and
 * de-duplication, and replay in stream order.
 */
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

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
  seq: number;
  subject: string;
  /** The body. From `read()` this may be a view on a larger buffer: copy it if you keep many. */
  data: Uint8Array;
  /** The `Nats-Msg-Id` header, or null. */
  msgId: string | null;
  /** Time the stream stored the message (server clock, ms precision). */
  time: Date;
  headers: MsgHdrs | null;
}

export interface ReadOptions {
  /** First sequence to read (inclusive); default 1. */
  fromSeq?: number;
  /**
   * Last sequence to read (inclusive); default and upper bound: the stream's last sequence when the
   * iteration starts. `read` replays history; it never waits for messages that do not exist yet.
   */
  toSeq?: number;
  /** Messages requested per pull from the server; default 2000. */
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

function fromJsMsg(m: JsMsg): StoredMessage {
  const h = m.headers ?? null;
  const id = h?.get(MSG_ID);
  return {
    seq: m.seq,
    subject: m.subject,
    data: m.data,
    msgId: id ? id : null,
    time: m.time,
    headers: h,
  };
}

function fromStoredMsg(m: StoredMsg): StoredMessage {
  const h = m.header ?? null;
  const id = h?.get(MSG_ID);
  return {
    seq: m.seq,
    subject: m.subject,
    data: m.data,
    msgId: id ? id : null,
    time: m.time,
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
   * Replays messages `fromSeq..toSeq` in stream order through an ordered pull consumer (ephemeral,
   * memory-backed, no acks; recreated transparently by nats.js on a gap). The consumer is created
   * when the iteration starts and deleted when it ends or the caller breaks out.
   */
  read(opts: ReadOptions = {}): AsyncIterable<StoredMessage> {
    return { [Symbol.asyncIterator]: () => this.readIterator(opts) };
  }

  private async *readIterator(opts: ReadOptions): AsyncGenerator<StoredMessage, void, undefined> {
    const fromSeq = Math.max(1, opts.fromSeq ?? 1);
    const jsm = await this.jsm();
    const info = await jsm.streams.info(this.stream);
    const last = info.state.last_seq;
    const toSeq = Math.min(opts.toSeq ?? last, last);
    if (toSeq < fromSeq || info.state.messages === 0) return;
    const firstExisting = Math.max(fromSeq, info.state.first_seq);
    if (firstExisting > toSeq) return;

    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: firstExisting,
    });
    const batch = Math.max(1, Math.min(opts.batchSize ?? 2000, toSeq - firstExisting + 1));
    const messages = await consumer.consume({ max_messages: batch });
    try {
      for await (const m of messages) {
        const seq = m.seq;
        if (seq > toSeq) break;
        yield fromJsMsg(m);
        // `pending` is what the stream holds after this message: 0 means nothing more to read
        // (the remaining sequences up to toSeq were deleted).
        if (seq >= toSeq || m.info.pending === 0) break;
      }
    } finally {
      messages.stop();
      consumer.delete().catch(() => {
        // best effort: an ordered consumer also expires on its own (inactive_threshold)
      });
    }
  }
}
