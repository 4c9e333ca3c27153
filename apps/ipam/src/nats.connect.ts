/**
 * Connecting to NATS: retried for as long as it takes, first connection included, every failed attempt
 * logged (a warning with the server list, credentials hidden, and when the next attempt comes), every
 * disconnect and reconnect logged. The service never exits because NATS is or went away; only a refusal
 * of its credentials stops it. Credentials may be written in NATS_URL (`nats://user:pass@host:4222`); no
 * log line shows one (URLs are redacted).
 */
import { errors, NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { connectCoalesced } from '../../../libs/jetstream/src/index.js';
import { natsConnectionOptions, parseServers, redactUrls } from '../../../libs/ipam-client/src/index.js';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';

/** How often a connection that is away says that it is still trying. */
const RECONNECT_WARN_MS = 5000;

/** The wait before the next attempt at a first connection: 1 s, 2 s, 4 s, then every 5 s. */
export function firstConnectRetryMs(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), 5000);
}

/** NATS refused the credentials at the first connection: the operator fixes them (exit code 2). */
export class NatsCredentialsError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NatsCredentialsError';
  }
}

/** An attempt the server answered with a refusal of the credentials: trying again would not help. */
function isFatal(e: unknown): boolean {
  return e instanceof errors.AuthorizationError || e instanceof errors.UserAuthenticationExpiredError;
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function connectNats(
  config: IpamEnv,
  logger: AppLogger,
  signal?: AbortSignal,
): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    // the servers without credentials, and the credentials from NATS_URL or NATS_CREDS / NATS_TOKEN / NATS_USER
    ...natsConnectionOptions({
      servers: config.NATS_URL,
      credsFile: config.NATS_CREDS,
      token: config.NATS_TOKEN,
      user: config.NATS_USER,
      pass: config.NATS_PASSWORD,
      // replies and stream reads under the user's own prefix; TLS when a CA or a certificate is set
      inboxPrefix: config.NATS_INBOX_PREFIX,
      tls:
        config.NATS_TLS_CA !== undefined || config.NATS_TLS_CERT !== undefined
          ? { caFile: config.NATS_TLS_CA, certFile: config.NATS_TLS_CERT, keyFile: config.NATS_TLS_KEY }
          : undefined,
    }),
    name: `ipam-${config.IPAM_INSTANCE_ID}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    // a first attempt that fails is retried below, each failure logged (the client would wait silently)
    waitOnFirstConnect: false,
    // an address that never answers is given up on after 5 s (then retried), not the client's 20 s
    timeout: 5000,
    pingInterval: 10_000,
    // no stack captured per request: the service has a publish in flight per outcome
    noAsyncTraces: true,
  };
  const servers = parseServers(config.NATS_URL).redacted;
  const where = servers.join(',');
  logger.info({ servers }, `connecting to NATS at ${where}`);
  let nc: NatsConnection;
  for (let failures = 1; ; failures++) {
    try {
      // socket writes coalesced once per event-loop turn (libs/jetstream/src/coalesced-writes.ts)
      nc = await connectCoalesced(options);
      break;
    } catch (e) {
      const err = redactUrls(e instanceof Error ? e.message : String(e));
      if (isFatal(e)) {
        logger.error({ servers, err }, `NATS at ${where} refused the credentials (${err}); stopping`);
        throw new NatsCredentialsError(
          `NATS at ${where} refused the credentials (${err}); check NATS_URL, NATS_CREDS, NATS_TOKEN or NATS_USER / NATS_PASSWORD`,
          { cause: e },
        );
      }
      const retryInMs = firstConnectRetryMs(failures);
      logger.warn(
        { servers, err, attempt: failures, retryInMs },
        `NATS is not reachable at ${where} (${err}); retrying in ${retryInMs / 1000} s`,
      );
      await sleep(retryInMs, signal);
    }
  }
  logger.info({ server: nc.getServer() }, `connected to NATS at ${where}`);
  void (async () => {
    // while away: every attempt at debug, and a warning every RECONNECT_WARN_MS that it goes on
    let away: { since: number; attempts: number; warned: number } | null = null;
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          away = { since: Date.now(), attempts: 0, warned: Date.now() };
          logger.warn({ server: s.server }, 'disconnected from NATS; reconnecting');
          break;
        case 'reconnect':
          logger.info(
            { server: s.server, awayMs: away ? Date.now() - away.since : undefined },
            'reconnected to NATS',
          );
          away = null;
          break;
        case 'reconnecting':
          logger.debug({}, 'trying to reconnect to NATS');
          if (away !== null) {
            away.attempts++;
            if (Date.now() - away.warned >= RECONNECT_WARN_MS) {
              away.warned = Date.now();
              logger.warn(
                { servers, attempts: away.attempts, awayMs: Date.now() - away.since },
                `still reconnecting to NATS at ${where} (${Math.round((Date.now() - away.since) / 1000)} s, ${away.attempts} attempts)`,
              );
            }
          }
          break;
        case 'error':
          logger.error({ err: redactUrls(String(s.error)) }, 'NATS connection error');
          break;
        default:
          logger.debug({ status: s.type }, 'NATS status');
      }
    }
  })();
  return nc;
}
