/**
 * The IPAM stream: the system of record and audit log. This module only ever creates it; it never
 * updates, purges or deletes it. If a stream of that name already exists with other subjects, it
 * refuses to start rather than touching it.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export const IPAM_STREAM_DEFAULT_NAME = 'IPAM';
export const IPAM_STREAM_SUBJECTS: readonly string[] = Object.freeze([
  'ipam.pool.>',
  'ipam.lb.>',
  'ipam.ip.>',
]);
/** Window within which a repeated `Nats-Msg-Id` is answered with `duplicate: true` instead of being stored. */
export const IPAM_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export interface EnsureIpamStreamOptions {
  /** Stream name; default `IPAM`. */
  name?: string;
  /** Replicas when the stream is created (ignored for an existing stream); default 1. */
  replicas?: number;
  /**
   * When creating, also set `deny_delete` and `deny_purge`, so the server itself refuses message
   * deletion and purges through the API. Default false. (Never applied to an existing stream.)
   */
  denyDeleteAndPurge?: boolean;
}

export interface EnsureIpamStreamResult {
  /** True when this call created the stream. */
  created: boolean;
  info: StreamInfo;
  /**
   * Non-fatal differences between the existing stream's configuration and the one this module would
   * create (e.g. storage, retention, limits). The stream is used as it is; callers may log these.
   */
  warnings: string[];
}

/** Thrown when a stream with the IPAM name exists but does not have exactly the IPAM subjects. */
export class StreamConfigMismatchError extends Error {
  constructor(
    readonly stream: string,
    readonly expectedSubjects: readonly string[],
    readonly actualSubjects: readonly string[],
  ) {
    super(
      `stream ${stream} exists with subjects [${actualSubjects.join(', ')}] but [${expectedSubjects.join(', ')}] ` +
        `are required; refusing to modify it (fix or rename the stream by hand, or set another stream name)`,
    );
    this.name = 'StreamConfigMismatchError';
  }
}

/** The configuration used when the stream is created. Limits retention with no limits at all. */
export function ipamStreamConfig(opts: EnsureIpamStreamOptions = {}): StreamConfig {
  const cfg: Partial<StreamConfig> = {
    name: opts.name ?? IPAM_STREAM_DEFAULT_NAME,
    subjects: [...IPAM_STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: opts.replicas ?? 1,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
    max_consumers: -1,
    duplicate_window: nanos(IPAM_DUPLICATE_WINDOW_MS),
  };
  if (opts.denyDeleteAndPurge) {
    cfg.deny_delete = true;
    cfg.deny_purge = true;
  }
  return cfg as StreamConfig;
}

function sameSubjects(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((s) => set.has(s));
}

function differences(actual: StreamConfig, wanted: StreamConfig): string[] {
  const out: string[] = [];
  const check = (field: keyof StreamConfig, ok: boolean): void => {
    if (!ok)
      out.push(
        `${String(field)} is ${JSON.stringify(actual[field])}, expected ${JSON.stringify(wanted[field])}`,
      );
  };
  check('storage', actual.storage === wanted.storage);
  check('retention', actual.retention === wanted.retention);
  // Any limit that can drop messages is worth a warning: this stream is the system of record.
  check('max_msgs', (actual.max_msgs ?? -1) <= 0);
  check('max_bytes', (actual.max_bytes ?? -1) <= 0);
  check('max_age', (actual.max_age ?? 0) === 0);
  check('max_msgs_per_subject', (actual.max_msgs_per_subject ?? -1) <= 0);
  check('duplicate_window', (actual.duplicate_window ?? 0) >= wanted.duplicate_window);
  return out;
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * Creates the IPAM stream when missing; otherwise checks that its subjects are exactly
 * `ipam.pool.>`, `ipam.lb.>`, `ipam.ip.>` and throws {@link StreamConfigMismatchError} if not.
 * Idempotent and safe to call concurrently from several instances. Never updates, purges or deletes.
 */
export async function ensureIpamStream(
  jsm: JetStreamManager,
  opts: EnsureIpamStreamOptions = {},
): Promise<EnsureIpamStreamResult> {
  const wanted = ipamStreamConfig(opts);
  const verify = (info: StreamInfo, created: boolean): EnsureIpamStreamResult => {
    const subjects = info.config.subjects ?? [];
    if (!sameSubjects(subjects, wanted.subjects)) {
      throw new StreamConfigMismatchError(wanted.name, wanted.subjects, subjects);
    }
    return { created, info, warnings: created ? [] : differences(info.config, wanted) };
  };

  try {
    return verify(await jsm.streams.info(wanted.name), false);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  try {
    return verify(await jsm.streams.add({ ...wanted, subjects: [...wanted.subjects] }), true);
  } catch (err) {
    // Lost a creation race (another instance created it, possibly with another config), or the
    // subjects overlap some other stream: report what is actually there.
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(wanted.name);
    } catch {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `cannot create stream ${wanted.name} with subjects [${wanted.subjects.join(', ')}]: ${reason}`,
        {
          cause: err,
        },
      );
    }
    return verify(info, false);
  }
}
