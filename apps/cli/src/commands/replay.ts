/**
 * `ipam replay --verify`: folds the whole stream with this build as the service does (the service's own
 * decoding of inputs and the same in-order fold), and reports divergences and refused outcomes.
 */
import 'reflect-metadata';
import { createVerifier, type Refusal, type VerifyReport } from '../../../../libs/ipam-audit/src/index.js';
import type { EventStore } from '../../../../libs/jetstream/src/index.js';
import { serviceCodec, type WireCodec } from '../../../../libs/ipam-contract/src/index.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, println, printError, UsageError } from '../io.js';
import { withClient } from '../nats-client.js';
import { bool, GLOBAL_HELP, noMorePositionals, parseCommand } from '../options.js';
import { createProgress, type ProgressOptions } from '../progress.js';

export const REPLAY_USAGE = `Usage: ipam replay --verify

Reads every event of the stream and folds it with this build, from an empty state, as the service does:
each input is decided again, and its answer is the first stored outcome equal to that decision. Prints
  verified: all N inputs decided the same way (M unanswered)
or the first divergence (an input whose stored outcomes this build all refuses: the input's seq and
subject, the recorded and the decided outcome) and exits 1. Stored outcomes the fold refuses (forged,
another build's, late copies) are counted, and the first is shown; alone they do not fail the check.
Inputs are read as the service reads them, with the body limit from $IPAM_MAX_BODY_BYTES (default 65536).
Progress goes to stderr (a bar on a terminal).

Options:
  --verify             compare every recorded outcome with this build's decision (required)
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
): Promise<VerifyReport> {
  const verifier = createVerifier(codec);
  for await (const batch of store.readBatches({ fromSeq: 1, toSeq })) {
    for (let i = 0; i < batch.length; i++) verifier.push(batch[i]);
    onProgress?.(batch[batch.length - 1].seq);
  }
  return verifier.finish();
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
  const p = parseCommand(args, { verify: { type: 'boolean' } }, io, REPLAY_USAGE, 'replay');
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
    const progress = createProgress(io.stderr, 'replay', last, progressOptions);
    let report: VerifyReport;
    try {
      report = await verifyStream(client.store, last, codec, (seq) =>
        progress.update(seq, `seq ${seq} of ${last}`),
      );
    } finally {
      progress.finish();
    }
    return printReport(io, report);
  });
}
