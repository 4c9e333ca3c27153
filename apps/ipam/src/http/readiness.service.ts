/** Readiness: connected to NATS and caught up with the stream. Also feeds the lag and pool gauges. */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { available, count } from '../../../../libs/ipam-domain/src/index.js';
import type { JetStreamServer } from '../../../../libs/nest-jetstream/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { AllocatorMetrics } from '../allocator/allocator.metrics.js';
import { JETSTREAM_SERVER, NATS_CONNECTION } from '../tokens.js';

export interface Readiness {
  ready: boolean;
  connected: boolean;
  position: number;
  streamLastSeq: number | null;
  lag: number | null;
  leader: boolean;
}

const asNumber = (n: bigint) => {
  const c = count(n);
  return typeof c === 'number' ? c : Number(c);
};

@Injectable()
export class ReadinessService implements OnModuleInit {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(JETSTREAM_SERVER) private readonly server: JetStreamServer,
    private readonly allocator: AllocatorService,
    private readonly metrics: AllocatorMetrics,
  ) {}

  /** between a disconnect and the reconnect (the client keeps trying for as long as it takes) */
  private disconnected = false;

  onModuleInit(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.disconnected = true;
        else if (s.type === 'reconnect') this.disconnected = false;
      }
    })();
    const pools = () => [...this.allocator.state.pools.values()];
    this.metrics.gauge('ipam_pool_total', 'Allocatable addresses of the pool', ['pool'], (g) => {
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
    this.metrics.gauge('ipam_leader', '1 when this instance holds the decider lease', [], (g) => {
      g.set(this.server.leader ? 1 : 0);
    });
  }

  /** Connected to NATS now (not closed, not draining, not between a disconnect and the reconnect). */
  isConnected(): boolean {
    return !this.nc.isClosed() && !this.nc.isDraining() && !this.disconnected;
  }

  async check(): Promise<Readiness> {
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
    const lag = last === null ? null : Math.max(0, last - this.server.position);
    return {
      ready: connected && last !== null && this.server.caughtUp,
      connected,
      position: this.server.position,
      streamLastSeq: last,
      lag,
      leader: this.server.leader,
    };
  }
}
