/**
 * The audit read model of the service: the answers the allocator's in-order fold accepted, each with
 * its outcome's sequence and time; and "as of" pool status by folding the stream up to a point with
 * this build (the fold of `ipam replay --verify`, so a forged outcome counts there neither).
 *
 * After a start from a snapshot at sequence S the allocator folds only what follows S, so the part of the
 * model up to S is built here, out of the decider's path: once the allocator is deciding, the stream
 * 1..S is read over a consumer of its own and folded with this build's verifier in slices (the event
 * loop let run between them), while what the allocator accepts meanwhile waits in a buffer and is
 * applied after it. Until then (`building`), audit answers cover what was read so far.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  AsOf,
  AuditProjection,
  createVerifier,
  type ProjectionColumns,
} from '../../../../libs/ipam-audit/src/index.js';
import type { IpamEvent, IpamState } from '../../../../libs/ipam-domain/src/index.js';
import { EventStore } from '../../../../libs/jetstream/src/index.js';
import { serviceCodec } from '../../../../libs/ipam-contract/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG, NATS_CONNECTION } from '../tokens.js';
import { foldPrefix, type PrefixModel } from './audit-prefix.js';

type WorkerReply =
  { columns: ProjectionColumns; seqs: Float64Array; times: Float64Array } | { error: string };

@Injectable()
export class AuditService {
  projection = new AuditProjection();
  /** the last outcome message read */
  position = 0;
  /** (seq, time) of every outcome message read, ascending: maps a time to the last sequence at or before it */
  private seqs: number[] = [];
  private times: number[] = [];
  private readonly store: EventStore;
  private readonly maxBodyBytes: number;
  private readonly config: IpamEnv;
  /** why the last prefix was built in this thread rather than in a worker (null: it was not) */
  workerError: string | null = null;
  /** the snapshot sequence whose prefix is still being built (0: none), and what waits meanwhile */
  private prefixUpTo = 0;
  private pending: Array<[number, number, IpamEvent]> = [];
  private generation = 0;
  /** resolves when the prefix built after a snapshot start is in (at once when there is none) */
  built: Promise<void> = Promise.resolve();

  /** the model does not yet cover the stream before the snapshot the service started from */
  get building(): boolean {
    return this.prefixUpTo > 0;
  }

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection, @Inject(IPAM_CONFIG) config: IpamEnv) {
    this.store = new EventStore(nc, config.IPAM_STREAM);
    this.maxBodyBytes = config.IPAM_MAX_BODY_BYTES;
    this.config = config;
  }

  /** An outcome message read from the stream, in stream order, whatever the fold makes of it. */
  read(seq: number, time: number): void {
    if (seq <= this.position) return;
    this.position = seq;
    this.seqs.push(seq);
    this.times.push(time);
  }

  /** The accepted answer of an input, stored at `seq` at `time` (ms). */
  accepted(seq: number, time: number, answer: IpamEvent): void {
    if (this.prefixUpTo > 0) this.pending.push([seq, time, answer]);
    else this.projection.apply(seq, time, answer);
  }

  reset(): void {
    this.generation++;
    this.projection = new AuditProjection();
    this.position = 0;
    this.seqs = [];
    this.times = [];
    this.prefixUpTo = 0;
    this.pending = [];
    this.built = Promise.resolve();
  }

  /**
   * The allocator's state was restored from a snapshot covering 1..seq: answers accepted from now on
   * wait until `buildPrefix` has folded that part of the stream.
   */
  restoredAt(seq: number): void {
    this.reset();
    if (seq <= 0) return;
    this.prefixUpTo = seq;
    this.position = seq;
  }

  /** Builds the model of 1..S after a snapshot start (see the class comment); no-op otherwise. */
  buildPrefix(onDone?: (err: unknown | null, ms: number) => void): Promise<void> {
    const upTo = this.prefixUpTo;
    if (upTo === 0) return this.built;
    const generation = this.generation;
    const started = performance.now();
    const stale = () => generation !== this.generation;
    const run = async () => {
      let model: PrefixModel | null = null;
      try {
        model = await this.prefixInWorker(upTo);
      } catch (e) {
        // no worker here (or it failed): the same fold in this thread, in slices
        this.workerError = String(e);
      }
      model ??= await foldPrefix(this.store, this.maxBodyBytes, upTo, stale);
      if (model === null || stale()) return;
      const { projection, seqs, times } = model;
      // the live part, read meanwhile, after the prefix
      for (const [seq, time, answer] of this.pending) projection.apply(seq, time, answer);
      this.projection = projection;
      this.seqs = seqs.concat(this.seqs);
      this.times = times.concat(this.times);
      this.pending = [];
      this.prefixUpTo = 0;
    };
    this.built = run().then(
      () => onDone?.(null, performance.now() - started),
      (e) => onDone?.(e, performance.now() - started),
    );
    return this.built;
  }

  /**
   * The prefix built in a worker thread (audit-prefix.worker.ts), or null when none can run here (the
   * sources run under a TypeScript loader, as in tests: the worker's compiled file is missing).
   */
  private async prefixInWorker(upTo: number): Promise<PrefixModel | null> {
    const file = new URL('./audit-prefix.worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(file))) return null;
    const worker = new Worker(file, { workerData: { config: { ...this.config }, upTo } });
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the audit worker exited with ${code}`)));
      });
      if ('error' in reply) throw new Error(`the audit worker failed: ${reply.error}`);
      return {
        projection: AuditProjection.fromColumns(reply.columns),
        seqs: Array.from(reply.seqs),
        times: Array.from(reply.times),
      };
    } finally {
      void worker.terminate();
    }
  }

  /** The last stream sequence stored at or before `time` (ms), 0 if none. */
  seqAt(time: number): number {
    let lo = 0;
    let hi = this.times.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= time) {
        found = this.seqs[mid];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * The state of every pool as of a sequence or time: the stream up to it, folded as the allocator
   * folds it (each input re-decided; its first stored outcome equal to the decision applied). A sequence
   * past the stream's end means its last sequence; no sequence or time means what this service has read.
   */
  async stateAsOf(at: AsOf): Promise<{ state: IpamState; seq: number }> {
    const upTo =
      at.seq !== undefined
        ? Math.min(at.seq, await this.store.lastSeq())
        : at.time !== undefined
          ? this.seqAt(at.time)
          : this.position;
    const verifier = createVerifier(serviceCodec(this.maxBodyBytes));
    if (upTo > 0) {
      // over a consumer of its own, in slices of at most 1024 messages with the event loop let run
      // between them: decisions, acks and PubAcks never wait for a whole batch (or a whole read)
      for await (const batch of this.store.readBatches({ fromSeq: 1, toSeq: upTo })) {
        for (let i = 0; i < batch.length; i++) {
          verifier.push(batch[i]);
          if ((i & 1023) === 1023) await yieldToEventLoop();
        }
        await yieldToEventLoop();
      }
    }
    verifier.finish();
    return { state: verifier.state, seq: upTo };
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
