/**
 * The IPAM client for integrators: connect, publish an input and await its outcome, follow outcomes,
 * ask the service's queries.
 *
 *   const ipam = await connectIpam({ servers: 'nats://user:pass@nats.example:4222' });
 *   const { outcome } = await ipam.publishAndWait('ipam.lb.requested', { metadata: { namespace: 'default', name: 'web' } });
 *   if (outcome.subject === 'ipam.ip.allocated') console.log(outcome.body.ip);
 *   await ipam.close();
 */
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
  type TlsOptions,
} from '@nats-io/transport-node';
import { QUERY_SUBJECTS, type InputSubject } from '../../ipam-contract/src/index.js';
import { EventStore } from '../../jetstream/src/index.js';
import { IpamClientError } from './errors.js';
import { followOutcomes, OutcomeWaiter } from './outcomes.js';
import { InputPublisher, seconds, type Published, type PublishOptions } from './publisher.js';
import { ReplyMux } from './reply-mux.js';
import { parseServers, redactUrls } from './servers.js';
import type {
  AnswerOf,
  AsOfRequest,
  InputBody,
  Outcome,
  QueryErrorReply,
  QueryName,
  QueryReply,
  QueryRequest,
  WhatIf,
} from './types.js';

export const DEFAULT_SERVERS = 'nats://127.0.0.1:4222';
export const DEFAULT_STREAM = 'IPAM';
export const DEFAULT_TIMEOUT_MS = 15_000;

/** How to authenticate, besides credentials written in the server URLs. */
export interface IpamCredentials {
  /** path of a NATS credentials (.creds) file */
  credsFile?: string;
  token?: string;
  user?: string;
  pass?: string;
}

export interface IpamClientOptions extends IpamCredentials {
  /**
   * NATS servers: a comma-separated string or a list; credentials may be written in them
   * (`nats://user:pass@host:4222`, `nats://token@host:4222`). Default `nats://127.0.0.1:4222`.
   */
  servers?: string | readonly string[];
  /** the IPAM stream; default IPAM */
  stream?: string;
  /** connect, PubAck, query and outcome timeout in ms; default 15 000 */
  timeoutMs?: number;
  /** the connection's name, as the server shows it; default ipam-client */
  name?: string;
  /** prefix of generated Nats-Msg-Ids; default `ipam-client-` */
  msgIdPrefix?: string;
  /** reconnect attempts after a connection is lost (-1: forever); default 10 */
  maxReconnectAttempts?: number;
  /**
   * Prefix of this client's inboxes (query replies, PubAcks, stream reads), e.g. `_INBOX_operator`: a
   * user of deploy/nats/ may only receive on its own. Default the NATS client's `_INBOX`.
   */
  inboxPrefix?: string;
  /** TLS to the servers (required when given): PEM file paths */
  tls?: IpamTlsFiles;
}

export interface IpamTlsFiles {
  /** the CA that signed the servers' certificates (default: the system's CAs) */
  caFile?: string;
  /** this client's certificate, for servers that verify clients (with keyFile) */
  certFile?: string;
  /** this client's private key (with certFile) */
  keyFile?: string;
}

export interface PublishAndWaitOptions extends PublishOptions {
  /** how long to wait for the outcome after the PubAck, in ms; default the client's timeout */
  outcomeTimeoutMs?: number;
}

export type PublishedWithOutcome<S extends InputSubject> = Published & { outcome: AnswerOf<S> };

/**
 * The NATS connection options for `options`: the servers without credentials, and the credentials
 * (from the URLs, a creds file, a token, or user and password). Throws IpamClientError `Config` when
 * credentials are given two ways or cannot be read; no message shows a credential.
 */
export function natsConnectionOptions(
  options: IpamClientOptions = {},
): ConnectionOptions & { servers: string[] } {
  const parsed = parseServers(options.servers ?? DEFAULT_SERVERS);
  if (parsed.servers.length === 0) throw new IpamClientError('Config', 'no NATS server given');
  const co: ConnectionOptions & { servers: string[] } = { servers: parsed.servers };
  const given = [
    parsed.credentials !== null ? 'the server URL' : null,
    options.credsFile !== undefined ? 'a creds file' : null,
    options.token !== undefined ? 'a token' : null,
    options.user !== undefined ? 'a user' : null,
  ].filter((g) => g !== null);
  if (given.length > 1) {
    throw new IpamClientError(
      'Config',
      `credentials are given ${given.length} ways (${given.join(', ')}); give one`,
    );
  }
  const c = parsed.credentials;
  if (c !== null) {
    if ('token' in c) co.token = c.token;
    else {
      co.user = c.user;
      co.pass = c.pass;
    }
  }
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(options.credsFile);
    } catch (e) {
      throw new IpamClientError(
        'Config',
        `cannot read the NATS credentials file ${options.credsFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    co.authenticator = credsAuthenticator(creds);
  }
  if (options.inboxPrefix !== undefined) co.inboxPrefix = options.inboxPrefix;
  if (options.tls !== undefined) co.tls = tlsOptions(options.tls);
  if (options.token !== undefined) co.token = options.token;
  if (options.user !== undefined) {
    co.user = options.user;
    co.pass = options.pass ?? '';
  }
  return co;
}

/** The NATS client's TLS options for `files`; IpamClientError `Config` when a file cannot be read. */
function tlsOptions(files: IpamTlsFiles): TlsOptions {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new IpamClientError('Config', 'a TLS client certificate needs its key, and a key its certificate');
  }
  const tls: TlsOptions = {};
  for (const [what, key, file] of [
    ['CA', 'caFile', files.caFile],
    ['certificate', 'certFile', files.certFile],
    ['key', 'keyFile', files.keyFile],
  ] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (e) {
      throw new IpamClientError(
        'Config',
        `cannot read the TLS ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    tls[key] = file;
  }
  return tls;
}

/** Connects; rejects with IpamClientError `Config` or `Connect` (the message names the servers, redacted). */
export async function connectIpam(options: IpamClientOptions = {}): Promise<IpamClient> {
  const co = natsConnectionOptions(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...co,
      name: options.name ?? 'ipam-client',
      timeout: timeoutMs,
      maxReconnectAttempts: options.maxReconnectAttempts ?? 10,
      reconnectTimeWait: 500,
      // no stack trace captured per request
      noAsyncTraces: true,
    });
  } catch (e) {
    const shown = parseServers(options.servers ?? DEFAULT_SERVERS).redacted.join(',');
    throw new IpamClientError(
      'Connect',
      `cannot connect to NATS at ${shown}: ${redactUrls((e as Error).message)}`,
      undefined,
      { cause: e },
    );
  }
  return new IpamClient(nc, { ...options, timeoutMs }, true);
}

export class IpamClient {
  readonly stream: string;
  readonly timeoutMs: number;
  /** the stream as an event log (reads, last sequence) */
  readonly store: EventStore;
  readonly js: JetStreamClient;
  /** the servers as they may be shown (credentials redacted) */
  readonly servers: string;
  private readonly mux: ReplyMux;
  private readonly publisher: InputPublisher;
  private readonly waiter: OutcomeWaiter;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  /**
   * A client on a connection made elsewhere (`connectIpam` makes its own). Unless `owned`, `close()`
   * leaves the connection open.
   */
  constructor(
    readonly nc: NatsConnection,
    options: Pick<IpamClientOptions, 'stream' | 'timeoutMs' | 'msgIdPrefix' | 'servers'> = {},
    private readonly owned = false,
  ) {
    this.stream = options.stream ?? DEFAULT_STREAM;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.servers =
      options.servers !== undefined
        ? parseServers(options.servers).redacted.join(',')
        : (nc.getServer() ?? '');
    this.js = jetstream(nc, { timeout: this.timeoutMs });
    this.store = new EventStore(nc, this.stream, { timeoutMs: this.timeoutMs });
    this.mux = new ReplyMux(nc);
    this.publisher = new InputPublisher(
      nc,
      { stream: this.stream, timeoutMs: this.timeoutMs, msgIdPrefix: options.msgIdPrefix },
      this.mux,
    );
    this.waiter = new OutcomeWaiter(this.js, this.store, this.stream);
  }

  /**
   * Publishes an input with a Nats-Msg-Id (`options.msgId`, or a new one) and resolves once the stream
   * stored it. See InputPublisher.publish for the errors.
   */
  publish<S extends InputSubject>(
    subject: S,
    body: InputBody<S> | Uint8Array,
    options: PublishOptions = {},
  ): Promise<Published> {
    return this.publisher.publish(subject, body, options);
  }

  /**
   * Publishes an input and resolves with its outcome (the outcome whose causationSeq is the input's
   * sequence), typed by the input's subject. Rejects with IpamClientError `OutcomeTimeout` (with
   * `seq`) when the input was stored but no outcome arrived in time: it will be answered when a
   * service runs; `awaitOutcome(seq)` waits again.
   */
  async publishAndWait<S extends InputSubject>(
    subject: S,
    body: InputBody<S> | Uint8Array,
    options: PublishAndWaitOptions = {},
  ): Promise<PublishedWithOutcome<S>> {
    const end = this.waiter.beginPublish();
    try {
      const published = await this.publisher.publish(subject, body, options);
      const outcome = await this.awaitOutcome<S>(published.seq, options.outcomeTimeoutMs, subject);
      return { ...published, outcome };
    } finally {
      end();
    }
  }

  /** The outcome of the input stored at `seq` (typed by the input's subject when given). */
  async awaitOutcome<S extends InputSubject = InputSubject>(
    seq: number,
    timeoutMs: number = this.timeoutMs,
    subject?: S,
  ): Promise<AnswerOf<S>> {
    const outcome = await this.waiter.wait(seq, timeoutMs);
    if (outcome === null) {
      throw new IpamClientError(
        'OutcomeTimeout',
        `${subject ?? 'the input'} was stored as seq ${seq} of stream ${this.stream}, but no outcome arrived within ${seconds(timeoutMs)}`,
        seq,
      );
    }
    return outcome as AnswerOf<S>;
  }

  /**
   * Every outcome stored from `fromSeq` on (default 1), in stream order, waiting for new ones:
   * `for await (const o of client.outcomes(100)) { ... }`; breaking out ends the read.
   */
  outcomes(fromSeq = 1): AsyncGenerator<Outcome, void, undefined> {
    return followOutcomes(this.js, this.stream, fromSeq);
  }

  /**
   * A query by name: its reply, or its `{"error": {"code", "reason"}}` reply (see isQueryError).
   * Rejects with IpamClientError `NoResponders` (no service runs), `Timeout` or `BadReply`.
   */
  async query<Q extends QueryName>(
    name: Q,
    request: QueryRequest<Q>,
  ): Promise<QueryReply<Q> | QueryErrorReply> {
    const subject = QUERY_SUBJECTS[name];
    const r = await this.mux.request(subject, this.encoder.encode(JSON.stringify(request)), this.timeoutMs);
    if (!r.ok) {
      if (r.why === 'no-responders') {
        throw new IpamClientError(
          'NoResponders',
          `no IPAM service answers ${subject} on ${this.servers}; is the service running?`,
        );
      }
      if (r.why === 'timeout') {
        throw new IpamClientError(
          'Timeout',
          `no reply to ${subject} within ${seconds(this.timeoutMs)} from ${this.servers}`,
        );
      }
      throw new IpamClientError('Closed', `${subject}: the NATS connection is closed`, undefined, {
        cause: r.cause,
      });
    }
    const text = this.decoder.decode(r.msg.data);
    try {
      return JSON.parse(text) as QueryReply<Q> | QueryErrorReply;
    } catch {
      throw new IpamClientError('BadReply', `the reply to ${subject} is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Every pool with its status. */
  pools(): Promise<QueryReply<'pools'> | QueryErrorReply> {
    return this.query('pools', {});
  }

  /** One pool with its status (error UnknownPool when there is none). */
  pool(name: string): Promise<QueryReply<'pool'> | QueryErrorReply> {
    return this.query('pool', { name });
  }

  /** The address a load balancer holds (error UnknownLoadBalancer when it holds none). */
  loadBalancer(namespace: string, name: string): Promise<QueryReply<'lb'> | QueryErrorReply> {
    return this.query('lb', { namespace, name });
  }

  /**
   * The load balancers holding an address (of `namespace`, of `pool`), one page: pass the reply's
   * `continue` back for the next.
   */
  loadBalancers(request: QueryRequest<'lbs'> = {}): Promise<QueryReply<'lbs'> | QueryErrorReply> {
    return this.query('lbs', request);
  }

  /** Every holder of an address, or the holder as of a time or sequence. */
  auditAddress(ip: string, asOf: AsOfRequest = {}): Promise<QueryReply<'auditAddress'> | QueryErrorReply> {
    return this.query('auditAddress', { ip, ...asOf });
  }

  /** What a load balancer held and the rejections it got, up to a time or sequence. */
  auditLoadBalancer(
    namespace: string,
    name: string,
    asOf: AsOfRequest = {},
  ): Promise<QueryReply<'auditLoadBalancer'> | QueryErrorReply> {
    return this.query('auditLoadBalancer', { namespace, name, ...asOf });
  }

  /**
   * A dry run: the outcome `body` published on `subject` would get now, and the load balancers a pool
   * update or delete would affect. Nothing is stored.
   */
  whatif<S extends InputSubject>(subject: S, body: InputBody<S>): Promise<WhatIf<S> | QueryErrorReply> {
    return this.query('whatif', { subject, body }) as Promise<WhatIf<S> | QueryErrorReply>;
  }

  /** Stops the waits and reads; closes the connection when the client made it. */
  async close(): Promise<void> {
    this.waiter.close();
    this.mux.close();
    if (this.owned) await this.nc.close().catch(() => undefined);
  }
}

/** True for a query's `{"error": {"code", "reason"}}` reply. */
export function isQueryError(reply: unknown): reply is QueryErrorReply {
  const e = (reply as { error?: { code?: unknown } } | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string';
}
