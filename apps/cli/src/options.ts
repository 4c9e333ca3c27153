/**
 * Command-line parsing (node:util parseArgs): the global options every command takes, and a helper
 * that parses one command's arguments together with them, turning every problem into a UsageError.
 */
import { parseArgs } from 'node:util';
import { CliIo, println, UsageError } from './io.js';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
export type OptionSpecs = Record<string, OptionSpec>;

export const GLOBAL_OPTIONS = {
  server: { type: 'string' },
  stream: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';
export const DEFAULT_STREAM = 'IPAM';
export const DEFAULT_TIMEOUT_S = 15;

export const GLOBAL_HELP = `Global options:
  --server URL         NATS server URL(s), comma-separated (default: $NATS_URL or ${DEFAULT_SERVER})
  --stream NAME        the IPAM JetStream stream (default: $IPAM_STREAM or ${DEFAULT_STREAM})
  --timeout SECONDS    how long to wait for NATS, for replies and for outcomes (default: ${DEFAULT_TIMEOUT_S})
  -h, --help           show help

Environment: NATS_URL; NATS_USER and NATS_PASSWORD (or NATS_CREDS, NATS_TOKEN); NATS_INBOX_PREFIX (a
user of deploy/nats/ receives only on its own, e.g. _INBOX_operator); NATS_TLS_CA, and NATS_TLS_CERT
with NATS_TLS_KEY when the server verifies clients; IPAM_STREAM.`;

export interface GlobalOptions {
  servers: string[];
  stream: string;
  timeoutMs: number;
}

export type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface ParsedCommand {
  values: Values;
  positionals: string[];
  global: GlobalOptions;
}

/** parseArgs's messages carry a long hint after the first sentence; keep the sentence. */
function cleanMessage(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/^\w*Error \[[A-Z_]+\]: /, '');
  const first = msg.split(/\.\s/)[0].replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/**
 * Parses `args` (everything after the command word) with the global options and `options`. Returns
 * null after printing `usage` when --help was given.
 */
export function parseCommand(
  args: string[],
  options: OptionSpecs,
  io: CliIo,
  usage: string,
  command: string,
): ParsedCommand | null {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (e) {
    throw new UsageError(cleanMessage(e), command);
  }
  if (parsed.values.help === true) {
    println(io.stdout, usage);
    return null;
  }
  return { ...parsed, global: globalOptions(parsed.values, io.env, command) };
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function globalOptions(values: Values, env: CliIo['env'], command?: string): GlobalOptions {
  const server = str(values, 'server') ?? (env.NATS_URL || DEFAULT_SERVER);
  const servers = server
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0)
    throw new UsageError('--server needs a URL such as nats://127.0.0.1:4222', command);
  const stream = str(values, 'stream') ?? (env.IPAM_STREAM || DEFAULT_STREAM);
  if (!STREAM_NAME.test(stream)) {
    throw new UsageError(`--stream "${stream}" is not a stream name (letters, digits, "-" and "_")`, command);
  }
  const timeoutText = str(values, 'timeout');
  let timeoutMs = DEFAULT_TIMEOUT_S * 1000;
  if (timeoutText !== undefined) {
    const t = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText.trim()) || !(t > 0)) {
      throw new UsageError(`--timeout "${timeoutText}" is not a number of seconds greater than 0`, command);
    }
    timeoutMs = Math.round(t * 1000);
  }
  return { servers, stream, timeoutMs };
}

/** The last value of a string option (a repeated option: the last one wins). */
export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  if (Array.isArray(v)) {
    const last = v[v.length - 1];
    return typeof last === 'string' ? last : undefined;
  }
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a `multiple` string option. */
export function strs(values: Values, key: string): string[] {
  const v = values[key];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function bool(values: Values, key: string): boolean {
  return values[key] === true;
}

/** -o: table (the default), json, yaml; for `get` also wide (more columns) and name (kind/name lines) */
export type OutputFormat = 'table' | 'json' | 'yaml' | 'wide' | 'name';
export type StructuredFormat = 'json' | 'yaml';

export const OUTPUT_OPTION = { output: { type: 'string', short: 'o' } } as const satisfies OptionSpecs;

/** The -o/--output value: table (default) or one of `allowed`. */
export function outputFormat<F extends OutputFormat>(
  values: Values,
  allowed: F[],
  command: string,
): F | 'table' {
  const o = str(values, 'output');
  if (o === undefined) return 'table';
  if (!(allowed as string[]).includes(o)) {
    const others = allowed.filter((a) => a !== 'table');
    const words =
      others.length <= 2 ? others.join(' or ') : `${others.slice(0, -1).join(', ')} or ${others.at(-1)}`;
    throw new UsageError(`-o ${o} is not supported; use ${words}`, command);
  }
  return o as F;
}

/** "namespace/name" of a load balancer. */
export function parseLbKey(
  text: string | undefined,
  command: string,
): { namespace: string; name: string; key: string } {
  if (text === undefined) throw new UsageError('give the load balancer as NAMESPACE/NAME', command);
  const parts = text.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`"${text}" is not NAMESPACE/NAME (for example default/my-lb)`, command);
  }
  return { namespace: parts[0], name: parts[1], key: text };
}

/** Fails when more positionals were given than the command takes. */
export function noMorePositionals(positionals: string[], from: number, command: string): void {
  if (positionals.length > from) {
    throw new UsageError(`unexpected argument "${positionals[from]}"`, command);
  }
}
