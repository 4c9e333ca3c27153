/**
 * Logs (pino): JSON lines, or on a terminal readable lines (pino-pretty, loaded only then); and the
 * adapter that routes Nest's own messages into them, its start-up chatter (one line per module and per
 * route) at debug.
 */
import { createRequire } from 'node:module';
import type { LoggerService } from '@nestjs/common';
import { pino, Logger, DestinationStream } from 'pino';

export type AppLogger = Logger;

/** `json`: one JSON object a line; `pretty`: time, level and message, the fields after them. */
export type LogFormat = 'json' | 'pretty';

export const LOG_FORMATS = ['json', 'pretty'] as const;

/** LOG_FORMAT when set; otherwise pretty when stdout is a terminal and JSON when it is not. */
export function resolveLogFormat(configured: LogFormat | undefined, isTTY: boolean | undefined): LogFormat {
  return configured ?? (isTTY === true ? 'pretty' : 'json');
}

/** pino-pretty, required only when pretty logs are asked for (a JSON service never loads it). */
function prettyStream(destination: DestinationStream | undefined, colorize: boolean): DestinationStream {
  const require = createRequire(import.meta.url);
  const build = require('pino-pretty') as typeof import('pino-pretty');
  return build({
    colorize,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,instance,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
    errorLikeObjectKeys: ['error'],
    ...(destination !== undefined ? { destination } : {}),
  });
}

export function createLogger(
  level: string,
  instance: string,
  destination?: DestinationStream,
  format: LogFormat = 'json',
): AppLogger {
  const options = { level, base: { service: 'ipam', instance }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') {
    // `err` is a string in this service's lines: printed with the other fields, on the same line (pino
    // has pino-pretty print its errorKey apart, on lines of its own); an Error given as the first
    // argument goes under `error` and is printed apart, with its stack
    return pino(
      { ...options, errorKey: 'error' },
      prettyStream(destination, destination === undefined && process.stdout.isTTY === true),
    );
  }
  return pino(options, destination ?? pino.destination({ sync: false }));
}

/**
 * Nest's messages while it builds the application (a line per module, controller and route, "Nest
 * application successfully started"): at debug; the service says in one line where it listens.
 */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
]);

export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}
  log(message: unknown, context?: string): void {
    if (context !== undefined && START_UP_CONTEXTS.has(context))
      this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
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
