/**
 * What a command talks to: output streams, input, environment. The real process in `main`, strings in
 * tests. Errors a command raises carry their exit code (2 for usage, 1 for everything else).
 */
import type { Readable } from 'node:stream';

export interface Writer {
  write(chunk: string): unknown;
  /** true when the stream is a terminal (progress bars, colours) */
  isTTY?: boolean;
  /** terminal width, when known */
  columns?: number;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  stdin: Readable;
  env: Record<string, string | undefined>;
}

export const EXIT_OK = 0;
/** a rejection, a divergence, something not found, a failure talking to NATS */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot be run as written; `command` names the help to point at. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure with a message a person can act on (exit 1). */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** Writes `text` followed by a newline. */
export function println(w: Writer, text = ''): void {
  w.write(`${text}\n`);
}

/** One line on stderr, prefixed `error: `. */
export function printError(io: CliIo, message: string): void {
  println(io.stderr, `error: ${message.replace(/\s*\n\s*/g, ' ')}`);
}
