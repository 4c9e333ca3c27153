/**
 * Configuration from the environment, validated at start: every bad value is reported with what is
 * wrong and what would be right, and the process exits before connecting to anything.
 */
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
  ValidateIf,
} from 'class-validator';
import { HTTP_AUTH_ENV_KEYS, readHttpAuth, type HttpAuthSettings } from '../auth/auth.config.js';
import { IpamClientError, parseServers, redactUrls } from '../../../../libs/ipam-client/src/index.js';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export class IpamEnv {
  @IsString()
  @Matches(/^((nats|tls|ws|wss):\/\/)?[^\s,/]+(:\d+)?(,((nats|tls|ws|wss):\/\/)?[^\s,/]+(:\d+)?)*$/, {
    message:
      'NATS_URL must be a comma-separated list of server URLs such as nats://127.0.0.1:4222 or nats://user:password@host:4222 (write a "/", "," or "@" in a password as %2F, %2C, %40)',
  })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'IPAM_STREAM must be a stream name of letters, digits, "-" and "_"',
  })
  IPAM_STREAM = 'IPAM';

  @Transform(toInt)
  @IsInt({ message: 'IPAM_STREAM_REPLICAS must be a whole number from 1 to 5' })
  @Min(1, { message: 'IPAM_STREAM_REPLICAS must be a whole number from 1 to 5' })
  @Max(5, { message: 'IPAM_STREAM_REPLICAS must be a whole number from 1 to 5' })
  IPAM_STREAM_REPLICAS = 1;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'IPAM_CONSUMER must be a consumer name of letters, digits, "-" and "_"',
  })
  IPAM_CONSUMER = 'ipam-allocator';

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'IPAM_LEASE_BUCKET must be a KV bucket name of letters, digits, "-" and "_"',
  })
  IPAM_LEASE_BUCKET = 'ipam-leader';

  @Transform(toInt)
  @IsInt({ message: 'IPAM_LEASE_TTL_MS must be a whole number of milliseconds, at least 1000' })
  @Min(1000, { message: 'IPAM_LEASE_TTL_MS must be a whole number of milliseconds, at least 1000' })
  IPAM_LEASE_TTL_MS = 2_500;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'IPAM_SNAPSHOT_BUCKET must be a KV bucket name of letters, digits, "-" and "_"',
  })
  IPAM_SNAPSHOT_BUCKET = 'ipam-snapshots';

  /** a snapshot of the state every this many stream messages (0: not by count) */
  @Transform(toInt)
  @IsInt({
    message: 'IPAM_SNAPSHOT_EVERY_EVENTS must be a whole number of events, 0 or more (0: not by count)',
  })
  @Min(0, {
    message: 'IPAM_SNAPSHOT_EVERY_EVENTS must be a whole number of events, 0 or more (0: not by count)',
  })
  IPAM_SNAPSHOT_EVERY_EVENTS = 50_000;

  /** a snapshot this often when anything was read since the last (0: not by time) */
  @Transform(toInt)
  @IsInt({
    message: 'IPAM_SNAPSHOT_EVERY_MS must be a whole number of milliseconds, 0 or more (0: not by time)',
  })
  @Min(0, {
    message: 'IPAM_SNAPSHOT_EVERY_MS must be a whole number of milliseconds, 0 or more (0: not by time)',
  })
  IPAM_SNAPSHOT_EVERY_MS = 60_000;

  @Transform(toInt)
  @IsInt({ message: 'IPAM_SNAPSHOT_KEEP must be a whole number from 1 to 100' })
  @Min(1, { message: 'IPAM_SNAPSHOT_KEEP must be a whole number from 1 to 100' })
  @Max(100, { message: 'IPAM_SNAPSHOT_KEEP must be a whole number from 1 to 100' })
  IPAM_SNAPSHOT_KEEP = 3;

  @Transform(toInt)
  @IsInt({ message: 'IPAM_MAX_BODY_BYTES must be a whole number of bytes from 256 to 1048576' })
  @Min(256, { message: 'IPAM_MAX_BODY_BYTES must be a whole number of bytes from 256 to 1048576' })
  @Max(1024 * 1024, { message: 'IPAM_MAX_BODY_BYTES must be a whole number of bytes from 256 to 1048576' })
  IPAM_MAX_BODY_BYTES = 64 * 1024;

  @Transform(toInt)
  @IsInt({ message: 'HTTP_PORT must be a port number from 0 to 65535 (0 picks a free port)' })
  @Min(0, { message: 'HTTP_PORT must be a port number from 0 to 65535 (0 picks a free port)' })
  @Max(65535, { message: 'HTTP_PORT must be a port number from 0 to 65535 (0 picks a free port)' })
  HTTP_PORT = 8080;

  /** default: 127.0.0.1 without HTTP authentication, every interface with it (auth.config.ts) */
  @IsOptional()
  @IsString()
  HTTP_HOST?: string;

  /** HTTPS: the certificate (chain) and its private key, PEM files; both or neither */
  @IsOptional()
  @IsString()
  HTTP_TLS_CERT?: string;

  @IsOptional()
  @IsString()
  HTTP_TLS_KEY?: string;

  /** HTTP authentication, read from IPAM_HTTP_TOKENS_FILE, IPAM_OIDC_* and IPAM_HTTP_PUBLIC */
  auth: HttpAuthSettings = { tokens: [], oidc: null, open: [], disabled: true };

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** unset: readable lines (pino-pretty) when stdout is a terminal, JSON lines otherwise */
  @IsOptional()
  @IsIn(['json', 'pretty'], {
    message: 'LOG_FORMAT must be json or pretty (unset: pretty on a terminal, json otherwise)',
  })
  LOG_FORMAT?: 'json' | 'pretty';

  @Matches(/^[A-Za-z0-9_.-]{1,128}$/, {
    message: 'IPAM_INSTANCE_ID must be letters, digits, ".", "-" and "_"',
  })
  IPAM_INSTANCE_ID = `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`;

  /** path of a NATS credentials (.creds) file */
  @IsOptional()
  @IsString()
  NATS_CREDS?: string;

  @IsOptional()
  @IsString()
  NATS_TOKEN?: string;

  @IsOptional()
  @IsString()
  NATS_USER?: string;

  @ValidateIf((o: IpamEnv) => o.NATS_USER !== undefined)
  @IsString({ message: 'NATS_PASSWORD is required when NATS_USER is set' })
  NATS_PASSWORD?: string;

  /** prefix of the service's inboxes; under deploy/nats/ permissions `_INBOX_ipam_service` */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, {
    message:
      'NATS_INBOX_PREFIX must be a subject prefix: tokens of letters, digits, "_" and "-" separated by "." (such as _INBOX_ipam_service)',
  })
  NATS_INBOX_PREFIX?: string;

  /** TLS to NATS: the CA of the server's certificate (PEM file) */
  @IsOptional()
  @IsString()
  NATS_TLS_CA?: string;

  /** TLS to NATS: the service's client certificate (PEM file), with NATS_TLS_KEY */
  @IsOptional()
  @IsString()
  NATS_TLS_CERT?: string;

  /** TLS to NATS: the key of NATS_TLS_CERT (PEM file) */
  @IsOptional()
  @IsString()
  NATS_TLS_KEY?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose values are never shown, not even in a message about them. */
const SECRETS = new Set(['NATS_TOKEN', 'NATS_PASSWORD']);

/** A value as a problem may quote it: a secret as ***, URLs without their passwords. */
function shown(key: string, value: string | undefined): string {
  if (value === undefined || value === '') return '""';
  return SECRETS.has(key) ? '***' : JSON.stringify(redactUrls(value));
}

/** The set (non-empty) values of `keys` in `env`. */
function pick<K extends string>(env: NodeJS.ProcessEnv, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) if (env[k] !== undefined && env[k] !== '') out[k] = env[k];
  return out;
}

/** The inbox prefix and TLS settings of the NATS connection (deploy/nats/, README "Security"). */
const NATS_CONNECTION_KEYS = ['NATS_INBOX_PREFIX', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'];

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IpamEnv {
  const known = Object.keys(new IpamEnv());
  const raw: Record<string, string> = {};
  for (const key of [
    ...known.filter((k) => k !== 'auth'),
    'HTTP_HOST',
    'HTTP_TLS_CERT',
    'HTTP_TLS_KEY',
    'LOG_FORMAT',
    'NATS_CREDS',
    'NATS_TOKEN',
    'NATS_USER',
    'NATS_PASSWORD',
    ...NATS_CONNECTION_KEYS,
  ]) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const config = plainToInstance(IpamEnv, raw);
  const problems: string[] = [];
  for (const e of validateSync(config)) {
    for (const message of Object.values(e.constraints ?? {})) {
      problems.push(`${message} (got ${shown(e.property, raw[e.property])})`);
    }
  }
  if (config.NATS_CREDS !== undefined && !existsSync(config.NATS_CREDS)) {
    problems.push(`NATS_CREDS names a credentials file that does not exist: ${config.NATS_CREDS}`);
  }
  if (config.NATS_PASSWORD !== undefined && config.NATS_USER === undefined) {
    problems.push('NATS_PASSWORD is set without NATS_USER');
  }
  for (const key of [
    'NATS_TLS_CA',
    'NATS_TLS_CERT',
    'NATS_TLS_KEY',
    'HTTP_TLS_CERT',
    'HTTP_TLS_KEY',
  ] as const) {
    const file = config[key];
    if (file === undefined) continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (e) {
      problems.push(
        `${key} names a file that cannot be read (${(e as NodeJS.ErrnoException).code}): ${file}`,
      );
    }
  }
  if ((config.NATS_TLS_CERT === undefined) !== (config.NATS_TLS_KEY === undefined)) {
    problems.push(
      'NATS_TLS_CERT and NATS_TLS_KEY go together: set both (a client certificate and its key) or neither',
    );
  }
  if ((config.HTTP_TLS_CERT === undefined) !== (config.HTTP_TLS_KEY === undefined)) {
    problems.push(
      'HTTP_TLS_CERT and HTTP_TLS_KEY go together: set both (the certificate and its key) for HTTPS, or neither',
    );
  }
  if (config.NATS_TOKEN !== undefined && config.NATS_USER !== undefined) {
    problems.push('NATS_TOKEN and NATS_USER are both set; use one way to authenticate');
  }
  if (typeof config.NATS_URL === 'string') {
    try {
      const { credentials } = parseServers(config.NATS_URL);
      const other = ['NATS_CREDS', 'NATS_TOKEN', 'NATS_USER'].filter((k) => raw[k] !== undefined);
      if (credentials !== null && other.length > 0) {
        problems.push(
          `NATS_URL carries credentials and ${other.join(' and ')} is set too; use one way to authenticate`,
        );
      }
    } catch (e) {
      if (!(e instanceof IpamClientError)) throw e;
      problems.push(`NATS_URL: ${e.message}`);
    }
  }
  const http = readHttpAuth({ ...pick(env, HTTP_AUTH_ENV_KEYS), HTTP_HOST: raw.HTTP_HOST }, problems);
  config.auth = http.auth;
  config.HTTP_HOST = http.host;
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return config;
}
