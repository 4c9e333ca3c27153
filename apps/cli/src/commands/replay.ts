/**
 * `ipam replay --verify`: folds the whole stream with this build as the service does (the service's own
 * decoding of inputs and the same in-order fold), and reports divergences and refused outcomes.
 */
import 'reflect-metadata';
import { createVerifier, type Refusal, type VerifyReport } from '../../../../libs/ipam-audit/src/index.js';
import type { EventStore } from '../../../../libs/jetstream/src/index.js';
import { serviceCodec, type WireCodec } from '../../../../libs/ipam-contract/src/index.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, println, printError, UsageError } from '../io.js';
import { withClient, type CliClient } from '../nats-client.js';
import { bool, GLOBAL_HELP, noMorePositionals, parseCommand, str } from '../options.js';
import type { IpamState } from '../../../../libs/ipam-domain/src/index.js';
import {
  exportState,
  SNAPSHOT_FORMAT,
  type StateSnapshot,
} from '../../../../libs/ipam-domain/src/snapshot.js';
import { DEFAULT_SNAPSHOT_BUCKET, SnapshotStore } from '../../../../libs/jetstream/src/snapshot-store.js';
import { decodePayload, type SnapshotPayload } from '../../../../libs/ipam-audit/src/snapshot-payload.js';
import { createProgress, type ProgressOptions } from '../progress.js';

export const REPLAY_USAGE = `Usage: ipam replay --verify [--snapshot]

Reads every event of the stream and folds it with this build, from an empty state, as the service does:
each input is decided again, and its answer is the first stored outcome equal to that decision. Prints
  verified: all N inputs decided the same way (M unanswered)
or the first divergence (an input whose stored outcomes this build all refuses: the input's seq and
subject, the recorded and the decided outcome) and exits 1. Stored outcomes the fold refuses (forged,
another build's, late copies) are counted, and the first is shown; alone they do not fail the check.
Inputs are read as the service reads them, with the body limit from $IPAM_MAX_BODY_BYTES (default 65536).
Progress goes to stderr (a bar on a terminal).

With --snapshot, also checks the newest snapshot the service wrote (KV bucket $IPAM_SNAPSHOT_BUCKET,
default ipam-snapshots; others that fail their checksum or format are listed and passed over): the state
it holds must equal the full fold's state at its sequence, else the first difference is printed and the
command exits 1.

Options:
  --verify             compare every recorded outcome with this build's decision (required)
  --snapshot           check the newest snapshot against the full fold at its sequence
  --snapshot-bucket B  the snapshots' KV bucket (default: $IPAM_SNAPSHOT_BUCKET or ipam-snapshots)
${GLOBAL_HELP}`;

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function maxBodyBytes(env: CliIo['env']): number {
  const raw = env.IPAM_MAX_BODY_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_BODY_BYTES;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < 256 || n > 1024 * 1024) {
    throw new UsageError(
      `IPAM_MAX_BODY_BYTES must be a whole number of bytes from 256 to 1048576 (got "${raw}")`,
      'replay',
    );
  }
  return n;
}

/** The codec of the service: its input decoding and its subject mapping. */
export { serviceCodec };

/**
 * What `ipam replay --verify` runs: every message up to `toSeq`, read from `store` a batch at a time,
 * verified with `codec` (see createVerifier). `onProgress(seq)` after each batch, with its last sequence.
 */
export async function verifyStream(
  store: EventStore,
  toSeq: number,
  codec: WireCodec,
  onProgress?: (seq: number) => void,
  at?: { seq: number; take: (state: IpamState) => void },
): Promise<VerifyReport> {
  const verifier = createVerifier(codec);
  if (at !== undefined && at.seq === 0) at.take(verifier.state);
  for await (const batch of store.readBatches({ fromSeq: 1, toSeq })) {
    for (let i = 0; i < batch.length; i++) {
      verifier.push(batch[i]);
      if (at !== undefined && batch[i].seq === at.seq) at.take(verifier.state);
    }
    onProgress?.(batch[batch.length - 1].seq);
  }
  return verifier.finish();
}

/** Where two plain values first differ ("pools[0] (pool \"p\").tables[1].holder[3]: 2 != 5"), or null. */
export function firstDifference(a: unknown, b: unknown, path = 'state'): string | null {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return `${path}: snapshot ${short(a)}, full fold ${short(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: snapshot ${short(a)}, full fold ${short(b)}`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    for (let i = 0; i < Math.min(a.length, bb.length); i++) {
      const named = (a[i] as { name?: unknown; key?: unknown } | null) ?? {};
      const label =
        typeof named.name === 'string'
          ? ` (${named.name})`
          : typeof named.key === 'string'
            ? ` (${named.key})`
            : '';
      const d = firstDifference(a[i], bb[i], `${path}[${i}]${label}`);
      if (d !== null) return d;
    }
    return a.length === bb.length
      ? null
      : `${path}: snapshot has ${a.length} entries, full fold ${bb.length}`;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
    const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}

function short(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

/** The newest snapshot that reads and checks (others listed on stderr); throws a CliError when none. */
async function newestSnapshot(
  client: CliClient,
  bucket: string,
  stream: string,
  io: CliIo,
): Promise<{ seq: number; state: StateSnapshot; source: string }> {
  let store: SnapshotStore;
  try {
    store = await SnapshotStore.open(client.client.nc, { stream, bucket, create: false });
  } catch (e) {
    throw new CliError(`cannot open the snapshot bucket ${bucket}: ${(e as Error).message}`, { cause: e });
  }
  let payload: SnapshotPayload | null = null;
  const loaded = await store.newest(SNAPSHOT_FORMAT, (skip) =>
    printError(io, `skipped the snapshot at seq ${skip.seq}: ${skip.reason}`),
  );
  if (loaded !== null) payload = await decodePayload(loaded.payload);
  if (loaded === null || payload === null)
    throw new CliError(`no usable snapshot of ${stream} in bucket ${bucket}`);
  const b = loaded.meta.build;
  return {
    seq: loaded.meta.seq,
    state: payload.state,
    source: `written ${loaded.meta.writtenAt} by ${loaded.meta.writer}, build ${b.version}${b.commit ? ` ${b.commit.slice(0, 12)}` : ''}`,
  };
}

function compact(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

const REFUSAL_REASONS: Record<Refusal['reason'], (r: Refusal) => string> = {
  differs: (r) =>
    r.decided
      ? `not this build's answer to input seq ${r.inputSeq} (${r.decided.subject} ${compact(r.decided.body)})`
      : `not this build's answer to input seq ${r.inputSeq}`,
  stale: () => 'its input was already answered, or is not an input',
  unreadable: () => 'it names no input',
};

/** Refused outcomes, when there are any: how many, and the first. */
function printRefused(io: CliIo, report: VerifyReport): void {
  const r = report.firstRefused;
  if (r === null) return;
  println(
    io.stdout,
    `refused: ${report.refused} stored outcome${report.refused === 1 ? '' : 's'} not accepted by this build (never applied); the first:`,
  );
  println(io.stdout, `  seq ${r.seq} ${r.subject} ${compact(r.body)}`);
  println(io.stdout, `  refused: ${REFUSAL_REASONS[r.reason](r)}`);
}

/** The report: one line when everything matched (and the refused outcomes); the first divergence otherwise. */
export function printReport(io: CliIo, report: VerifyReport): number {
  const unanswered = report.unanswered.length;
  if (report.firstDivergence === null) {
    println(
      io.stdout,
      `verified: all ${report.matched} inputs decided the same way (${unanswered} unanswered)`,
    );
    if (unanswered > 0) {
      const shown = report.unanswered.slice(0, 10).join(', ');
      println(io.stdout, `unanswered inputs (no outcome yet): seq ${shown}${unanswered > 10 ? ', ...' : ''}`);
    }
    printRefused(io, report);
    return EXIT_OK;
  }
  const d = report.firstDivergence;
  println(io.stdout, `divergence at input seq ${d.inputSeq} (${d.inputSubject}):`);
  println(
    io.stdout,
    d.recorded
      ? `  recorded: ${d.recorded.subject} (seq ${d.recorded.seq}) ${compact(d.recorded.body)}`
      : '  recorded: no outcome',
  );
  println(io.stdout, `  decided:  ${d.decided.subject} ${compact(d.decided.body)}`);
  println(
    io.stdout,
    `${report.divergences} of ${report.inputs} inputs decided differently (${report.matched} the same, ${unanswered} unanswered)`,
  );
  printRefused(io, report);
  printError(io, `replay diverged: first at input seq ${d.inputSeq} (${d.inputSubject})`);
  return EXIT_FAILED;
}

export async function replayCommand(
  args: string[],
  io: CliIo,
  progressOptions: ProgressOptions = {},
): Promise<number> {
  const p = parseCommand(
    args,
    { verify: { type: 'boolean' }, snapshot: { type: 'boolean' }, 'snapshot-bucket': { type: 'string' } },
    io,
    REPLAY_USAGE,
    'replay',
  );
  if (!p) return EXIT_OK;
  noMorePositionals(p.positionals, 0, 'replay');
  if (!bool(p.values, 'verify')) throw new UsageError('replay needs --verify (the only mode)', 'replay');
  const codec = serviceCodec(maxBodyBytes(io.env));
  return withClient(p.global, io, async (client) => {
    let last: number;
    try {
      last = await client.store.lastSeq();
    } catch (e) {
      throw new CliError(
        `cannot read stream ${p.global.stream} on ${client.server}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const snapshot = bool(p.values, 'snapshot')
      ? await newestSnapshot(
          client,
          str(p.values, 'snapshot-bucket') ?? (io.env.IPAM_SNAPSHOT_BUCKET || DEFAULT_SNAPSHOT_BUCKET),
          p.global.stream,
          io,
        )
      : null;
    let folded: StateSnapshot | null = null;
    const progress = createProgress(io.stderr, 'replay', last, progressOptions);
    let report: VerifyReport;
    try {
      report = await verifyStream(
        client.store,
        last,
        codec,
        (seq) => progress.update(seq, `seq ${seq} of ${last}`),
        snapshot === null ? undefined : { seq: snapshot.seq, take: (state) => (folded = exportState(state)) },
      );
    } finally {
      progress.finish();
    }
    const code = printReport(io, report);
    if (snapshot === null) return code;
    if (folded === null) {
      printError(io, `snapshot at seq ${snapshot.seq}: the stream ends at ${last}, before it`);
      return EXIT_FAILED;
    }
    const where = firstDifference(snapshot.state, folded);
    if (where !== null) {
      println(io.stdout, `snapshot at seq ${snapshot.seq} differs from the full fold at ${where}`);
      printError(io, `snapshot at seq ${snapshot.seq} (${snapshot.source}) differs from the full fold`);
      return EXIT_FAILED;
    }
    println(
      io.stdout,
      `snapshot verified: the snapshot at seq ${snapshot.seq} (${snapshot.source}) equals the full fold at that sequence`,
    );
    return code;
  });
}
