/**
 * The CLI's NATS side: libs/ipam-client, with every failure turned into a CliError whose message a
 * person can act on (and that never shows a credential: URLs are redacted).
 */
import { withActor, type InputSubject } from '../../../libs/ipam-contract/src/index.js';
import type { EventStore } from '../../../libs/jetstream/src/index.js';
import {
  connectIpam,
  IpamClient,
  IpamClientError,
  isQueryError,
  parseServers,
  redactUrls,
  type AnswerOf,
  type Outcome,
  type QueryErrorReply,
  type QueryName,
  type QueryReply,
  type QueryRequest,
} from '../../../libs/ipam-client/src/index.js';
import { CliError, CliIo, type Writer } from './io.js';
import { startSpinner } from './progress.js';
import type { GlobalOptions } from './options.js';

export { isQueryError };
export type { Outcome, QueryErrorReply as QueryError };

export interface Published<S extends InputSubject = InputSubject> {
  /** stream sequence of the input */
  seq: number;
  msgId: string;
  outcome: AnswerOf<S>;
}

/** Re-throws a client failure as a CliError with the same words (they already say what to do). */
function cliError(e: unknown, context?: string): never {
  if (e instanceof CliError) throw e;
  if (e instanceof IpamClientError)
    throw new CliError(context ? `${context}: ${e.message}` : e.message, { cause: e });
  throw e;
}

/** The NATS user the CLI connects as (NATS_USER, or the user written in the server URL), if any. */
function natsUser(options: GlobalOptions, env: CliIo['env']): string | undefined {
  if (env.NATS_USER) return env.NATS_USER;
  try {
    const c = parseServers(options.servers).credentials;
    return c !== null && 'user' in c && c.user !== '' ? c.user : undefined;
  } catch {
    return undefined;
  }
}

export class CliClient {
  private constructor(
    readonly client: IpamClient,
    readonly options: GlobalOptions,
    /** who the inputs it publishes say asked: the NATS user it connects as, when it has one */
    readonly actor: string | undefined,
    /** where the spinner turns while an outcome is awaited (only when it is a terminal) */
    private readonly status?: Writer,
  ) {}

  /**
   * Connects to the servers of `options`, with NATS_CREDS / NATS_TOKEN / NATS_USER+NATS_PASSWORD,
   * NATS_INBOX_PREFIX and NATS_TLS_CA / NATS_TLS_CERT / NATS_TLS_KEY from `env`.
   */
  static async connect(options: GlobalOptions, env: CliIo['env'] = {}, status?: Writer): Promise<CliClient> {
    try {
      const client = await connectIpam({
        servers: options.servers,
        stream: options.stream,
        timeoutMs: options.timeoutMs,
        name: 'ipam-cli',
        msgIdPrefix: 'ipam-cli-',
        credsFile: env.NATS_CREDS || undefined,
        token: env.NATS_TOKEN || undefined,
        user: env.NATS_USER || undefined,
        pass: env.NATS_USER ? (env.NATS_PASSWORD ?? '') : undefined,
        // a user of deploy/nats/ receives on its own inbox prefix only (the CLI's: _INBOX_operator)
        inboxPrefix: env.NATS_INBOX_PREFIX || undefined,
        tls:
          env.NATS_TLS_CA || env.NATS_TLS_CERT || env.NATS_TLS_KEY
            ? {
                caFile: env.NATS_TLS_CA || undefined,
                certFile: env.NATS_TLS_CERT || undefined,
                keyFile: env.NATS_TLS_KEY || undefined,
              }
            : undefined,
      });
      return new CliClient(client, options, natsUser(options, env), status);
    } catch (e) {
      if (e instanceof IpamClientError && e.code === 'Config') {
        cliError(e, `cannot connect to NATS at ${redactedServers(options)}`);
      }
      cliError(e);
    }
  }

  /** The servers, as they may be shown. */
  get server(): string {
    return this.client.servers;
  }

  get store(): EventStore {
    return this.client.store;
  }

  /** A query by subject name in QUERY_SUBJECTS: its reply or its `{"error"}` reply (see isQueryError). */
  async query<Q extends QueryName>(
    name: Q,
    request: QueryRequest<Q>,
  ): Promise<QueryReply<Q> | QueryErrorReply> {
    try {
      return await this.client.query(name, request);
    } catch (e) {
      cliError(e);
    }
  }

  /** Publishes an input with a fresh Nats-Msg-Id and waits for its outcome. */
  async publishAndWait<S extends InputSubject>(subject: S, body: unknown): Promise<Published<S>> {
    let published;
    try {
      published = await this.client.publish(subject, withActor(body, this.actor) as never);
    } catch (e) {
      cliError(e, `publishing ${subject} to stream ${this.options.stream} failed`);
    }
    const spinner = this.status
      ? startSpinner(this.status, `waiting for the outcome of ${subject} (stream sequence ${published.seq})`)
      : null;
    try {
      const outcome = await this.client.awaitOutcome(published.seq, this.options.timeoutMs, subject);
      return { seq: published.seq, msgId: published.msgId, outcome };
    } catch (e) {
      if (e instanceof IpamClientError && e.code === 'OutcomeTimeout') {
        throw new CliError(`${e.message}; is the IPAM service running? (it will be answered when one runs)`, {
          cause: e,
        });
      }
      return cliError(e);
    } finally {
      spinner?.stop();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function redactedServers(options: GlobalOptions): string {
  return redactUrls(options.servers.join(','));
}

/** Runs `fn` with a connected client and closes it afterwards. */
export async function withClient<T>(
  options: GlobalOptions,
  io: CliIo,
  fn: (client: CliClient) => Promise<T>,
): Promise<T> {
  const client = await CliClient.connect(options, io.env, io.stderr);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
