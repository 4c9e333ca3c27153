/**
 * Publishing an input into the stream with a `Nats-Msg-Id` (a retry with the same id is stored once)
 * and reading its PubAck. Used by the client, and by the service's HTTP layer for its writes.
 */
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { InputSubject } from '../../ipam-contract/src/index.js';
import { IpamClientError } from './errors.js';
import { ReplyMux } from './reply-mux.js';
import type { InputBody } from './types.js';

export interface Published {
  /** the stream sequence of the input (for a duplicate: of the one stored first) */
  seq: number;
  msgId: string;
  /** true when an input with this msgId was already stored (within the stream's duplicate window) */
  duplicate: boolean;
}

export interface PublishOptions {
  /** the input's Nats-Msg-Id; default `<msgIdPrefix><random UUID>` */
  msgId?: string;
  /** PubAck timeout in ms; default the publisher's */
  timeoutMs?: number;
}

export interface InputPublisherOptions {
  /** the stream the inputs must land in (checked by the server: Nats-Expected-Stream); default IPAM */
  stream?: string;
  /** PubAck timeout in ms; default 10 000 */
  timeoutMs?: number;
  /** prefix of generated message ids; default `ipam-client-` */
  msgIdPrefix?: string;
}

/** JSStreamNotMatchErr: the subject is stored by another stream than Nats-Expected-Stream. */
const STREAM_NOT_MATCH = 10060;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

export class InputPublisher {
  readonly stream: string;
  private readonly timeoutMs: number;
  private readonly msgIdPrefix: string;

  constructor(
    nc: NatsConnection,
    options: InputPublisherOptions = {},
    private readonly mux: ReplyMux = new ReplyMux(nc),
  ) {
    this.stream = options.stream ?? 'IPAM';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.msgIdPrefix = options.msgIdPrefix ?? 'ipam-client-';
  }

  /** A fresh message id: the prefix and a random UUID. */
  newMsgId(): string {
    return `${this.msgIdPrefix}${randomUUID()}`;
  }

  /**
   * Publishes `body` (an object, sent as JSON, or bytes as they are) on `subject` and resolves with
   * its sequence once the stream has stored it. Rejects with IpamClientError: `Unavailable` (no
   * PubAck in time or the connection is gone: it may still have been stored; publish again with the
   * same msgId to be sure it is stored once), `NoStream`, or `PublishRefused`.
   */
  async publish<S extends InputSubject>(
    subject: S,
    body: InputBody<S> | Uint8Array,
    options: PublishOptions = {},
  ): Promise<Published> {
    const msgId = options.msgId ?? this.newMsgId();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const h = natsHeaders();
    h.set('Nats-Msg-Id', msgId);
    h.set('Nats-Expected-Stream', this.stream);
    const data = body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body));
    const r = await this.mux.request(subject, data, timeoutMs, h);
    if (!r.ok) {
      if (r.why === 'no-responders') {
        throw new IpamClientError(
          'NoStream',
          `no JetStream stream took ${subject}: does stream ${this.stream} exist, and is JetStream enabled on the server?`,
        );
      }
      throw new IpamClientError(
        'Unavailable',
        r.why === 'timeout'
          ? `JetStream did not acknowledge ${subject} within ${seconds(timeoutMs)}; it may still have been stored (publish again with msgId ${msgId} to store it once)`
          : `the NATS connection is closed; ${subject} was not published`,
        undefined,
        r.cause !== undefined ? { cause: r.cause } : undefined,
      );
    }
    let ack: PubAck;
    try {
      ack = JSON.parse(decoder.decode(r.msg.data)) as PubAck;
    } catch {
      throw new IpamClientError('BadReply', `the PubAck of ${subject} is not JSON`);
    }
    if (ack.error !== undefined) {
      const description = ack.error.description ?? 'error';
      if (ack.error.err_code === STREAM_NOT_MATCH) {
        throw new IpamClientError(
          'NoStream',
          `${subject} is stored by another stream than ${this.stream} (server: ${description})`,
        );
      }
      throw new IpamClientError('PublishRefused', `JetStream refused ${subject}: ${description}`);
    }
    if (typeof ack.seq !== 'number')
      throw new IpamClientError('BadReply', `the PubAck of ${subject} has no seq`);
    return { seq: ack.seq, msgId, duplicate: ack.duplicate === true };
  }
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
