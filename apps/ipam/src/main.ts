/**
 * Entry point: validate the configuration, start the service, stop gracefully on SIGTERM/SIGINT
 * (finish the message in hand, release the lease, drain the connection).
 *
 * Exit codes: 0 stopped by a signal; 1 failed; 2 the operator must change something, said on stderr:
 * the configuration or the HTTP port (in use, not bindable), both before anything connects to NATS, or
 * the NATS credentials (refused).
 */
import { ConfigError, loadConfig } from './config/ipam.config.js';
import { HttpListenError, openHttpFront } from './http/listen.js';
import { createLogger, resolveLogFormat } from './logging/logger.js';
import type { IpamService } from './service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ipam: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const format = resolveLogFormat(config.LOG_FORMAT, process.stdout.isTTY);
  const logger = createLogger(config.LOG_LEVEL, config.IPAM_INSTANCE_ID, undefined, format);
  let service: IpamService | null = null;
  const starting = new AbortController();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    if (service === null) {
      // still waiting for NATS (or building the application): nothing decided, nothing to finish
      logger.info({ signal }, 'stopping before the service started');
      starting.abort(new Error(`stopped by ${signal}`));
      logger.flush();
      process.exit(0);
    }
    logger.info({ signal }, 'stopping: finishing the message in hand, then draining');
    service.close().then(
      () => {
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      },
      (err) => {
        logger.error({ err: String(err) }, 'error while stopping');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    // the port before anything else (before Nest is even loaded): in use, it is one line and exit 2
    const front = await openHttpFront(config, logger);
    const { startIpamService } = await import('./service.js');
    service = await startIpamService(config, logger, { front, signal: starting.signal });
  } catch (e) {
    const { NatsCredentialsError } = await import('./nats.connect.js');
    if (e instanceof HttpListenError || e instanceof NatsCredentialsError) {
      logger.flush();
      process.stderr.write(`ipam: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    throw e;
  }
}

main().catch((err) => {
  process.stderr.write(`ipam: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
