/**
 * The CLI's NATS side: one connection, queries (request/reply), and publishing an input event with a
 * unique Nats-Msg-Id and waiting for its outcome in the stream (the outcome whose causationSeq is the
 * PubAck's sequence). Every failure becomes a CliError with a message a person can act on.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DeliverPolicy } from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import { EVENT_TYPE_BY_SUBJECT } from '../../../libs/ipam-contract/src/index.js';
import { EventStore } from '../../../libs/jetstream/src/event-store.js';
import { CliError, CliIo } from './io.js';
import type { GlobalOptions } from './options.js';

/** An outcome event as stored: its own sequence, its subject and its body. */
export interface Outcome {
  seq: number;
  subject: string;
  body: Record<string, unknown> & { causationSeq: number };
}

export interface Published {
  /** stream sequence of the input */
  seq: number;
  msgId: string;
  outcome: Outcome;
}

/** The `{"error": {"code", "reason"}}` reply of a query. */
export interface QueryError {
  error: { code: string; reason: string };
}

export function isQueryError(reply: unknown): reply is QueryError {
  const e = (reply as { error?: { code?: unknown } } | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string';
}

const decoder = new TextDecoder();

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export class IpamClient {
  readonly store: EventStore;

  private constructor(
    readonly nc: NatsConnection,
    readonly options: GlobalOptions,
  ) {
    this.store = new EventStore(nc, options.stream, { timeoutMs: options.timeoutMs });
  }

  /** Connects to the servers of `options`, with NATS_CREDS / NATS_TOKEN / NATS_USER+NATS_PASSWORD from `env`. */
  static async connect(options: GlobalOptions, env: CliIo['env'] = {}): Promise<IpamClient> {
    const co: ConnectionOptions = {
      servers: options.servers,
      name: 'ipam-cli',
      timeout: options.timeoutMs,
      maxReconnectAttempts: 10,
      reconnectTimeWait: 500,
    };
    try {
      if (env.NATS_CREDS) co.authenticator = credsAuthenticator(readFileSync(env.NATS_CREDS));
    } catch (e) {
      throw new CliError(`cannot read NATS_CREDS file ${env.NATS_CREDS}: ${(e as Error).message}`);
    }
    if (env.NATS_TOKEN) co.token = env.NATS_TOKEN;
    if (env.NATS_USER) {
      co.user = env.NATS_USER;
      co.pass = env.NATS_PASSWORD;
    }
    try {
      return new IpamClient(await connect(co), options);
    } catch (e) {
      throw new CliError(`cannot connect to NATS at ${options.servers.join(',')}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  get server(): string {
    return this.options.servers.join(',');
  }

  /** Request/reply: the parsed JSON reply (which may be a `{"error"}` reply: see isQueryError). */
  async request<T = unknown>(subject: string, body: unknown): Promise<T | QueryError> {
    let reply;
    try {
      reply = await this.nc.request(subject, JSON.stringify(body), { timeout: this.options.timeoutMs });
    } catch (e) {
      const noResponders =
        e instanceof NoRespondersError ||
        (e instanceof RequestError && e.isNoResponders()) ||
        (e instanceof Error && e.cause instanceof NoRespondersError);
      if (noResponders) {
        throw new CliError(`no IPAM service answers ${subject} on ${this.server}; is the service running?`, {
          cause: e,
        });
      }
      if (e instanceof TimeoutError || (e instanceof Error && e.cause instanceof TimeoutError)) {
        throw new CliError(
          `no reply to ${subject} within ${seconds(this.options.timeoutMs)} from ${this.server}`,
          {
            cause: e,
          },
        );
      }
      throw new CliError(`${subject}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return JSON.parse(decoder.decode(reply.data)) as T;
    } catch {
      throw new CliError(`the reply to ${subject} is not JSON: ${decoder.decode(reply.data).slice(0, 200)}`);
    }
  }

  /** Publishes an input event into the stream with a fresh Nats-Msg-Id; resolves with its sequence. */
  async publish(subject: string, body: unknown): Promise<{ seq: number; msgId: string }> {
    const msgId = `ipam-cli-${randomUUID()}`;
    try {
      const ack = await this.store.append(subject, body as object, {
        msgId,
        timeoutMs: this.options.timeoutMs,
      });
      return { seq: ack.seq, msgId };
    } catch (e) {
      throw new CliError(
        `publishing ${subject} to stream ${this.options.stream} failed: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /**
   * Waits for the first outcome event whose causationSeq is `seq`, reading the stream from `seq + 1`
   * with an ordered consumer (an outcome is always stored after its input).
   */
  async waitForOutcome(seq: number, subject = 'the input'): Promise<Outcome> {
    const timeoutMs = this.options.timeoutMs;
    let consumer;
    try {
      consumer = await this.store.js.consumers.get(this.options.stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: seq + 1,
      });
    } catch (e) {
      throw new CliError(`cannot read stream ${this.options.stream}: ${(e as Error).message}`, { cause: e });
    }
    const messages = await consumer.consume({ max_messages: 256 });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      messages.stop();
    }, timeoutMs);
    try {
      for await (const m of messages) {
        if (EVENT_TYPE_BY_SUBJECT[m.subject] === undefined) continue;
        let body: Outcome['body'];
        try {
          body = JSON.parse(decoder.decode(m.data)) as Outcome['body'];
        } catch {
          continue;
        }
        if (body?.causationSeq === seq) return { seq: m.seq, subject: m.subject, body };
      }
    } finally {
      clearTimeout(timer);
      messages.stop();
      consumer.delete().catch(() => undefined);
    }
    throw new CliError(
      timedOut
        ? `${subject} was stored as seq ${seq} of stream ${this.options.stream}, but no outcome arrived within ` +
            `${seconds(timeoutMs)}; is the IPAM service running? (it will be answered when one runs)`
        : `stopped reading stream ${this.options.stream} before the outcome of seq ${seq} arrived`,
    );
  }

  async publishAndWait(subject: string, body: unknown): Promise<Published> {
    const { seq, msgId } = await this.publish(subject, body);
    const outcome = await this.waitForOutcome(seq, subject);
    return { seq, msgId, outcome };
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
  }
}

/** Runs `fn` with a connected client and closes it afterwards. */
export async function withClient<T>(
  options: GlobalOptions,
  io: CliIo,
  fn: (client: IpamClient) => Promise<T>,
): Promise<T> {
  const client = await IpamClient.connect(options, io.env);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
