/**
 * Connecting to NATS: retried with backoff for as long as it takes (first connection included), every
 * disconnect and reconnect logged. The service never exits because NATS went away.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';

export async function connectNats(config: IpamEnv, logger: AppLogger): Promise<NatsConnection> {
  const servers = config.NATS_URL.split(',').map((s) => s.trim());
  const options: ConnectionOptions = {
    servers,
    name: `ipam-${config.IPAM_INSTANCE_ID}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // no stack captured per request: the service has a publish in flight per outcome
    noAsyncTraces: true,
  };
  if (config.NATS_CREDS) options.authenticator = credsAuthenticator(readFileSync(config.NATS_CREDS));
  if (config.NATS_TOKEN) options.token = config.NATS_TOKEN;
  if (config.NATS_USER) {
    options.user = config.NATS_USER;
    options.pass = config.NATS_PASSWORD;
  }
  logger.info({ servers }, 'connecting to NATS');
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
          logger.error({ err: String(s.error) }, 'NATS connection error');
          break;
        default:
          logger.debug({ status: s.type }, 'NATS status');
      }
    }
  })();
  return nc;
}
