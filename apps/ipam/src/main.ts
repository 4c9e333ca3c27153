/**
 * Entry point: validate the configuration, start the service, stop gracefully on SIGTERM/SIGINT
 * (finish the message in hand, release the lease, drain the connection).
 */
import { ConfigError, loadConfig } from './config/ipam.config.js';
import { createLogger } from './logging/logger.js';
import { startIpamService } from './service.js';

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
  const logger = createLogger(config.LOG_LEVEL, config.IPAM_INSTANCE_ID);
  const service = await startIpamService(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the message in hand, then draining');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    service.close().then(
      () => {
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      },
      (err) => {
        logger.error({ err: String(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`ipam: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
