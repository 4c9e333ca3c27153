/**
 * The audit read model of the stream 1..upTo (before the snapshot a service started from): the stream
 * folded with this build's verifier, the answers it accepts applied to a fresh model. Runs in a worker
 * thread (audit-prefix.worker.ts) so that the garbage of a second fold of the whole stream stays in the
 * worker's heap and goes with it, and in the service's own thread when no worker can be started.
 */
import { AuditProjection, createVerifier } from '../../../../libs/ipam-audit/src/index.js';
import { OUTCOME_SUBJECTS, serviceCodec } from '../../../../libs/ipam-contract/src/index.js';
import type { EventStore } from '../../../../libs/jetstream/src/index.js';

export interface PrefixModel {
  projection: AuditProjection;
  /** (seq, time) of every outcome message, ascending */
  seqs: number[];
  times: number[];
}

const OUTCOMES = new Set<string>(Object.values(OUTCOME_SUBJECTS));

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Folds 1..upTo; null when `stale()` says the result is no longer wanted. */
export async function foldPrefix(
  store: EventStore,
  maxBodyBytes: number,
  upTo: number,
  stale: () => boolean = () => false,
): Promise<PrefixModel | null> {
  const projection = new AuditProjection();
  const seqs: number[] = [];
  const times: number[] = [];
  const verifier = createVerifier(serviceCodec(maxBodyBytes), {
    onAccepted: (outcome, answer) => projection.apply(outcome.seq, outcome.timeMs, answer),
  });
  for await (const batch of store.readBatches({ fromSeq: 1, toSeq: upTo })) {
    if (stale()) return null;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      if (OUTCOMES.has(m.subject)) {
        seqs.push(m.seq);
        times.push(m.timeMs);
      }
      verifier.push(m);
      // in the service's thread: let decisions, acks and PubAcks run between slices
      if ((i & 1023) === 1023) await yieldToEventLoop();
    }
    await yieldToEventLoop();
  }
  return stale() ? null : { projection, seqs, times };
}
