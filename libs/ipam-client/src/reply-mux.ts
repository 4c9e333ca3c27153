/**
 * Request/reply over one inbox subscription (`<inbox>.<n>`), for queries and PubAcks. The NATS
 * client's own `request` builds a RequestError, stack trace included, for every request it completes
 * (it rejects a promise that is already resolved); here a completed request costs a map entry and a
 * timer, and an error object exists only for a request that failed.
 */
import { type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { connectionInbox } from '../../jetstream/src/index.js';

/** Why a request got no reply. */
export type NoReply = 'timeout' | 'no-responders' | 'closed';

export interface Reply {
  ok: true;
  msg: Msg;
}
export interface Failed {
  ok: false;
  why: NoReply;
  /** what the connection reported, when it did */
  cause?: unknown;
}

interface Pending {
  resolve(r: Reply | Failed): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ReplyMux {
  private readonly prefix: string;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private sub: Subscription | null = null;

  constructor(private readonly nc: NatsConnection) {
    // under the connection's inbox prefix (a user may only receive on its own, see deploy/nats/)
    this.prefix = `${connectionInbox(nc)}.`;
  }

  private subscribe(): void {
    if (this.sub !== null) return;
    this.sub = this.nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (err) {
          this.failAll('closed', err);
          return;
        }
        const token = Number(msg.subject.slice(this.prefix.length));
        const p = this.pending.get(token);
        if (p === undefined) return; // late: its request timed out
        this.pending.delete(token);
        clearTimeout(p.timer);
        const h = msg.headers;
        if (h !== undefined && msg.data.length === 0 && h.code === 503)
          p.resolve({ ok: false, why: 'no-responders' });
        else p.resolve({ ok: true, msg });
      },
    });
    void this.sub.closed.then(() => {
      this.sub = null;
      this.failAll('closed');
    });
  }

  /**
   * Publishes `data` to `subject` with a reply subject of this mux and resolves with the reply, or with
   * why there was none. Never rejects.
   */
  request(
    subject: string,
    data: Uint8Array | string,
    timeoutMs: number,
    headers?: MsgHdrs,
  ): Promise<Reply | Failed> {
    if (this.nc.isClosed()) return Promise.resolve({ ok: false, why: 'closed' });
    this.subscribe();
    const token = this.next++;
    return new Promise<Reply | Failed>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        resolve({ ok: false, why: 'timeout' });
      }, timeoutMs);
      this.pending.set(token, { resolve, timer });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}${token}`, headers });
      } catch (cause) {
        this.pending.delete(token);
        clearTimeout(timer);
        resolve({ ok: false, why: 'closed', cause });
      }
    });
  }

  private failAll(why: NoReply, cause?: unknown): void {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      clearTimeout(p.timer);
      p.resolve({ ok: false, why, cause });
    }
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.failAll('closed');
  }
}
