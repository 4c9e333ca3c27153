/**
 * Connecting to NATS: retried with backoff for as long as it takes (first connection included), every
 * disconnect and reconnect logged. The service never exits because NATS went away. Credentials may be
 * written in NATS_URL (`nats://user:pass@host:4222`); no log line shows one (URLs are redacted).
 */
import { connect, NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { natsConnectionOptions, parseServers, redactUrls } from '../../../libs/ipam-client/src/index.js';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';

export async function connectNats(config: IpamEnv, logger: AppLogger): Promise<NatsConnection> {
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
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // no stack captured per request: the service has a publish in flight per outcome
    noAsyncTraces: true,
  };
  logger.info({ servers: parseServers(config.NATS_URL).redacted }, 'connecting to NATS');
  const nc = await connect(options);
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          logger.warn({ server: s.server }, 'disconnected from NATS; reconnecting');
          break;
        case 'reconnect':
          logger.info({ server: s.server }, 'reconnected to NATS');
          break;
        case 'reconnecting':
          logger.debug({}, 'trying to reconnect to NATS');
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
