/**
 * Readiness: connected to NATS, caught up with the stream, and some instance deciding. Also feeds the
 * lag, decider and pool gauges.
 *
 * Not ready, with the reason (first that holds):
 * - not connected to NATS, or the stream out of reach;
 * - not caught up with the stream yet (a start or a rebuild);
 * - no decider: nobody holds a valid decider lease as this instance sees it (libs/jetstream lease.ts
 *   `observe()`: free, expired, not renewed for its TTL, or written once by someone who never renews it);
 * - no progress: inputs this instance has read wait for an outcome and none was answered for
 *   PROGRESS_WINDOW_MS (the holder is paused, cut off, or cannot read its consumer);
 * - this instance's position has not moved for PROGRESS_WINDOW_MS while the stream holds more, or its lag
 *   grew at every sample over that window.
 * The trends come from a sample a second (the stream's last sequence, this instance's position).
 */
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter } from 'prom-client';
import { available, count } from '../../../../libs/ipam-domain/src/index.js';
import type { JetStreamServer } from '../../../../libs/nest-jetstream/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { AllocatorMetrics } from '../allocator/allocator.metrics.js';
import { JETSTREAM_SERVER, NATS_CONNECTION } from '../tokens.js';

/** How long no progress (or a growing lag) is tolerated before an instance says it is not ready (ms). */
export const PROGRESS_WINDOW_MS = 5000;
const SAMPLE_MS = 1000;
/** a check answered less than this long ago is answered again (a scrape reads several gauges) */
const CHECK_REUSE_MS = 200;

export interface DeciderReadiness {
  /** an instance holds a valid decider lease (as this instance sees it) */
  present: boolean;
  /** the instance named by the lease, null when none */
  holder: string | null;
  /** inputs this instance has read that wait for an outcome */
  waiting: number;
  /** how long none of them was answered (ms), 0 when none waits */
  waitingMs: number;
}

export interface Readiness {
  ready: boolean;
  connected: boolean;
  position: number;
  streamLastSeq: number | null;
  lag: number | null;
  leader: boolean;
  /** some instance decides and makes progress */
  deciding: boolean;
  decider: DeciderReadiness;
  /** the lag grew at every sample, or the position stood still behind the stream, for PROGRESS_WINDOW_MS */
  lagGrowing: boolean;
  /** why not ready, in words (null when ready) */
  reason: string | null;
}

interface Sample {
  at: number;
  position: number;
  lag: number;
}

const asNumber = (n: bigint) => {
  const c = count(n);
  return typeof c === 'number' ? c : Number(c);
};

@Injectable()
export class ReadinessService implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(JETSTREAM_SERVER) private readonly server: JetStreamServer,
    private readonly allocator: AllocatorService,
    private readonly metrics: AllocatorMetrics,
  ) {}

  /** between a disconnect and the reconnect (the client keeps trying for as long as it takes) */
  private disconnected = false;
  private samples: Sample[] = [];
  private sampler: NodeJS.Timeout | null = null;
  /** the last input answered, and since when (ms) it has not changed while inputs wait */
  private answered = -1;
  private answeredAt = 0;
  private recent: { at: number; result: Promise<Readiness> } | null = null;

  onModuleInit(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.disconnected = true;
        else if (s.type === 'reconnect') this.disconnected = false;
      }
    })();
    const pools = () => [...this.allocator.state.pools.values()];
    this.metrics.gauge('ipam_pool_addresses', 'Allocatable addresses of the pool', ['pool'], (g) => {
      for (const p of pools()) g.set({ pool: p.def.name }, asNumber(p.def.total));
    });
    this.metrics.gauge('ipam_pool_available', 'Free allocatable addresses of the pool', ['pool'], (g) => {
      for (const p of pools()) g.set({ pool: p.def.name }, asNumber(available(p)));
    });
    this.metrics.gauge('ipam_pool_allocated', 'Allocated addresses of the pool', ['pool'], (g) => {
      for (const p of pools()) g.set({ pool: p.def.name }, p.allocatedCount);
    });
    this.metrics.gauge(
      'ipam_consumer_lag_messages',
      'Messages in the stream not yet read by this instance',
      [],
      async (g) => {
        const r = await this.check();
        if (r.lag !== null) g.set(r.lag);
      },
    );
    this.metrics.gauge(
      'ipam_lag_messages',
      'Messages in the stream not yet read by this instance (the same as ipam_consumer_lag_messages)',
      [],
      async (g) => {
        const r = await this.check();
        if (r.lag !== null) g.set(r.lag);
      },
    );
    this.metrics.gauge(
      'ipam_lag_growing',
      '1 when the lag grew, or the position stood still behind the stream, for the whole progress window',
      [],
      async (g) => g.set((await this.check()).lagGrowing ? 1 : 0),
    );
    this.metrics.gauge(
      'ipam_decider_present',
      '1 when some instance holds a valid decider lease and inputs get answered, as this instance sees it',
      [],
      async (g) => g.set((await this.check()).deciding ? 1 : 0),
    );
    this.metrics.gauge('ipam_ready', '1 when /readyz answers 200', [], async (g) =>
      g.set((await this.check()).ready ? 1 : 0),
    );
    this.metrics.gauge('ipam_leader', '1 when this instance holds the decider lease', [], (g) => {
      g.set(this.server.leader ? 1 : 0);
    });
    const recreated = new Counter({
      name: 'ipam_durable_consumer_lost_total',
      help: 'Times the durable consumer was found deleted or changed by someone else (and recreated)',
      registers: [this.metrics.registry],
    });
    this.server.on('consumer-lost', () => recreated.inc());
    this.sampler = setInterval(() => void this.sample(), SAMPLE_MS);
    this.sampler.unref();
  }

  onModuleDestroy(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** Connected to NATS now (not closed, not draining, not between a disconnect and the reconnect). */
  isConnected(): boolean {
    return !this.nc.isClosed() && !this.nc.isDraining() && !this.disconnected;
  }

  /** The readiness now (checks made within the last 200 ms are shared). */
  check(): Promise<Readiness> {
    const now = performance.now();
    if (this.recent !== null && now - this.recent.at < CHECK_REUSE_MS) return this.recent.result;
    const result = this.compute();
    this.recent = { at: now, result };
    return result;
  }

  private async sample(): Promise<void> {
    if (!this.isConnected()) {
      this.samples = [];
      return;
    }
    const last = await this.server.lastSeq().catch(() => null);
    if (last === null) return;
    const now = performance.now();
    const position = this.server.position;
    this.samples.push({ at: now, position, lag: Math.max(0, last - position) });
    // keep one sample older than the window: the trend is over the whole window
    while (this.samples.length > 2 && now - this.samples[1].at >= PROGRESS_WINDOW_MS) this.samples.shift();
    this.trackAnswers(now);
  }

  /** Since when no input was answered while some wait (reset whenever one is answered or none waits). */
  private trackAnswers(now: number): number {
    const answered = this.allocator.lastAnswered;
    if (answered !== this.answered || this.allocator.pendingCount === 0) {
      this.answered = answered;
      this.answeredAt = now;
    }
    return now - this.answeredAt;
  }

  /** Why the lag is a problem over the window, or null. */
  private lagTrend(now: number): string | null {
    const s = this.samples;
    if (s.length < 2 || now - s[0].at < PROGRESS_WINDOW_MS) return null;
    if (s.some((x) => x.lag === 0)) return null;
    const first = s[0];
    const last = s[s.length - 1];
    const secs = Math.round((last.at - first.at) / 1000);
    if (s.every((x) => x.position === first.position)) {
      return `this instance has read nothing for ${secs} s: its position stays ${first.position} with ${last.lag} message(s) behind it`;
    }
    let growing = last.lag > first.lag;
    for (let i = 1; growing && i < s.length; i++) growing = s[i].lag > s[i - 1].lag;
    return growing ? `the lag keeps growing: from ${first.lag} to ${last.lag} message(s) in ${secs} s` : null;
  }

  private async compute(): Promise<Readiness> {
    // not connected: not ready, at once (no stream request left to time out)
    const connected = this.isConnected();
    let last: number | null = null;
    if (connected) {
      try {
        last = await this.server.lastSeq();
      } catch {
        last = null;
      }
    }
    const now = performance.now();
    const position = this.server.position;
    const lag = last === null ? null : Math.max(0, last - position);
    const view = this.server.decider();
    const waiting = this.allocator.pendingCount;
    const waitingMs = waiting > 0 ? Math.round(this.trackAnswers(now)) : 0;
    const stalled = waiting > 0 && waitingMs >= PROGRESS_WINDOW_MS;
    const trend = connected && last !== null ? this.lagTrend(now) : null;
    let reason: string | null = null;
    if (!connected) reason = 'not connected to NATS (the service is reconnecting)';
    else if (last === null) reason = 'the stream is out of reach';
    else if (!this.server.caughtUp)
      reason = `not caught up with the stream yet: ${lag ?? '?'} message(s) behind`;
    else if (!view.present) reason = `no decider: ${view.reason ?? 'no instance holds the decider lease'}`;
    else if (stalled)
      reason =
        `no decider is making progress: ${waiting} input(s) wait for an outcome and none was answered for ` +
        `${Math.round(waitingMs / 1000)} s (the lease names ${view.holder ?? 'nobody'})`;
    else if (trend !== null) reason = trend;
    return {
      ready: reason === null,
      connected,
      position,
      streamLastSeq: last,
      lag,
      leader: this.server.leader,
      deciding: view.present && !stalled,
      decider: { present: view.present, holder: view.holder, waiting, waitingMs },
      lagGrowing: trend !== null,
      reason,
    };
  }
}
