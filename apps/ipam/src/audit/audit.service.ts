/**
 * The audit read model of the service, kept current from the stream (every outcome as stored, with its
 * sequence and time), and "as of" pool status by folding the stream up to a point.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { AsOf, AuditProjection } from '../../../../libs/ipam-audit/src/index.js';
import { evolve, initialState, IpamEvent, IpamState } from '../../../../libs/ipam-domain/src/index.js';
import { EventStore } from '../../../../libs/jetstream/src/index.js';
import { EVENT_TYPE_BY_SUBJECT } from '../../../../libs/ipam-contract/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG, NATS_CONNECTION } from '../tokens.js';

const decoder = new TextDecoder();

@Injectable()
export class AuditService {
  projection = new AuditProjection();
  /** (seq, time) of every outcome applied, ascending: maps a time to the last sequence at or before it */
  private seqs: number[] = [];
  private times: number[] = [];
  private readonly store: EventStore;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection, @Inject(IPAM_CONFIG) config: IpamEnv) {
    this.store = new EventStore(nc, config.IPAM_STREAM);
  }

  apply(seq: number, subject: string, time: number, body: unknown): void {
    if (seq <= this.projection.position) return;
    this.projection.applyParsed(seq, subject, time, body);
    this.seqs.push(seq);
    this.times.push(time);
  }

  /** A message the projection has nothing to take from (not JSON). */
  skip(seq: number): void {
    this.projection.applyParsed(seq, '', 0, null);
  }

  reset(): void {
    this.projection = new AuditProjection();
    this.seqs = [];
    this.times = [];
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
   * The state of every pool as of a sequence or time: the outcomes up to it, folded (first per input
   * counts), read from the stream. A sequence past the stream's end means its last sequence; no
   * sequence or time means what this service has read.
   */
  async stateAsOf(at: AsOf): Promise<{ state: IpamState; seq: number }> {
    const upTo =
      at.seq !== undefined
        ? Math.min(at.seq, await this.store.lastSeq())
        : at.time !== undefined
          ? this.seqAt(at.time)
          : this.projection.position;
    const state = initialState();
    if (upTo <= 0) return { state, seq: 0 };
    const answered = new Set<number>();
    for await (const batch of this.store.readBatches({ fromSeq: 1, toSeq: upTo })) {
      for (const m of batch) {
        const type = EVENT_TYPE_BY_SUBJECT[m.subject];
        if (type === undefined) continue;
        let data: { causationSeq?: unknown };
        try {
          data = JSON.parse(decoder.decode(m.data));
        } catch {
          continue;
        }
        // as the allocator reads it: an earlier input's first outcome counts
        const causation = (data as { causationSeq?: unknown } | null)?.causationSeq;
        if (typeof causation !== 'number' || causation >= m.seq || answered.has(causation)) continue;
        answered.add(causation);
        evolve(state, { type, data } as IpamEvent);
      }
    }
    return { state, seq: upTo };
  }
}
