/**
 * Structured JSON logs (pino) and the adapter that routes Nest's own messages into them.
 */
import type { LoggerService } from '@nestjs/common';
import { pino, Logger, DestinationStream } from 'pino';

export type AppLogger = Logger;

export function createLogger(level: string, instance: string, destination?: DestinationStream): AppLogger {
  return pino(
    { level, base: { service: 'ipam', instance }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ sync: false }),
  );
}

export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
