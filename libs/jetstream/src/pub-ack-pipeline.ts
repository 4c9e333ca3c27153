/**
 * Publishing into a stream with many PubAcks in flight, each publish one message and one reply.
 *
 * Why not `js.publish`: each call there is a core request with its own timer, its own deferred and a
 * `RequestError` built when it completes, about a third of the service's garbage per outcome. Here
 * every reply comes to one subscription (`<inbox>.<token>`), is matched by its token, and one timer
 * sweeps the publishes whose answer is late. The wire is the same: a publish with `Nats-Msg-Id` and a
 * reply subject, answered by the stream's PubAck (or an error, or no responders).
 */
import {
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { connectionInbox } from './inbox.js';

export interface StreamAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** The one thing an outcome writer needs from JetStream. */
export interface StreamPublisher {
  /** Resolves with the stream's PubAck; rejects with a `StreamPublishError` (answered, late or closed). */
  publish(subject: string, data: string | Uint8Array, msgId: string): Promise<StreamAck>;
}

export type StreamPublishErrorCode = 'Timeout' | 'NoResponders' | 'Refused' | 'Closed';

export class StreamPublishError extends Error {
  constructor(
    readonly code: StreamPublishErrorCode,
    message: string,
    /** the server's JetStream error code (err_code) for `Refused` */
    readonly errCode?: number,
  ) {
    super(message);
    this.name = 'StreamPublishError';
  }
}

interface Pending {
  resolve(ack: StreamAck): void;
  reject(e: StreamPublishError): void;
  subject: string;
  deadline: number;
}

const decoder = new TextDecoder();

export interface PubAckPipelineOptions {
  /** how long a publish waits for its PubAck (ms); default 10,000 */
  timeoutMs?: number;
  /** how often late publishes are looked for (ms); default 250 */
  sweepMs?: number;
}

export class PubAckPipeline implements StreamPublisher {
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** in publish order, so the sweep stops at the first that is not late */
  private readonly pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private readonly timeoutMs: number;
  private next = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    options: PubAckPipelineOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.inbox = `${connectionInbox(nc)}.`;
    this.sub = nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (err === null) this.onReply(msg);
      },
    });
    this.timer = setInterval(() => this.sweep(Date.now()), options.sweepMs ?? 250);
    this.timer.unref();
    void nc.closed().then(() => this.close());
  }

  publish(subject: string, data: string | Uint8Array, msgId: string): Promise<StreamAck> {
    if (this.closed) return Promise.reject(new StreamPublishError('Closed', 'the connection is closed'));
    const token = (this.next++).toString(36);
    const h = natsHeaders();
    h.set('Nats-Msg-Id', msgId);
    return new Promise<StreamAck>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, subject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, data, { headers: h, reply: this.inbox + token });
      } catch (e) {
        this.pending.delete(token);
        reject(new StreamPublishError('Closed', `could not publish to ${subject}: ${String(e)}`));
      }
    });
  }

  /** Rejects what is still waiting and stops listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (!this.sub.isClosed()) this.sub.unsubscribe();
    for (const p of this.pending.values())
      p.reject(new StreamPublishError('Closed', `the connection closed before ${p.subject} was stored`));
    this.pending.clear();
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const p = this.pending.get(token);
    if (p === undefined) return; // answered after its deadline
    this.pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(
        new StreamPublishError('NoResponders', `no stream stores ${p.subject} (or JetStream is not there)`),
      );
      return;
    }
    let reply: {
      stream?: unknown;
      seq?: unknown;
      duplicate?: unknown;
      error?: { code?: number; err_code?: number; description?: string };
    };
    try {
      reply = JSON.parse(decoder.decode(msg.data)) as typeof reply;
    } catch {
      p.reject(new StreamPublishError('Refused', `an unreadable PubAck for ${p.subject}`));
      return;
    }
    if (reply.error !== undefined) {
      const e = reply.error;
      p.reject(new StreamPublishError('Refused', e.description ?? `code ${e.code}`, e.err_code));
    } else if (typeof reply.stream !== 'string' || typeof reply.seq !== 'number') {
      p.reject(new StreamPublishError('Refused', `an invalid PubAck for ${p.subject}`));
    } else {
      p.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
    }
  }

  private sweep(now: number): void {
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new StreamPublishError('Timeout', `no PubAck for ${p.subject} within ${this.timeoutMs} ms`));
    }
  }
}
