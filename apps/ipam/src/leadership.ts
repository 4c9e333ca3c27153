/**
 * One decider at a time: a lease in a KV bucket, taken and renewed by compare-and-set on the entry's
 * revision (libs/jetstream lease.ts). See docs/architecture.md for why and what happens when it fails.
 *
 * A lease this instance held and lost because someone else wrote the key is logged with what was
 * written; the loop then takes it back by the lease's rules (once the value lapses, by its `expiresAt`
 * or by not being renewed for its TTL), so a client that writes the key once stops decisions for one
 * TTL at most.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { holderProcessGone, KvLease } from '../../../libs/jetstream/src/index.js';
import type { DeciderView, Leadership } from '../../../libs/nest-jetstream/src/index.js';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';

export class KvLeadership implements Leadership {
  constructor(
    private readonly lease: KvLease,
    private readonly logger?: AppLogger,
  ) {}

  static async open(nc: NatsConnection, config: IpamEnv, logger: AppLogger): Promise<KvLeadership> {
    const lease = await KvLease.open(nc, {
      bucket: config.IPAM_LEASE_BUCKET,
      key: config.IPAM_STREAM,
      holderId: config.IPAM_INSTANCE_ID,
      ttlMs: config.IPAM_LEASE_TTL_MS,
      // as many copies as the stream: on a cluster the lease must outlive the node that holds one copy
      replicas: config.IPAM_STREAM_REPLICAS,
      // a restart after a crash on the same host need not wait out the dead process's lease
      holderGone: holderProcessGone,
      onError: (err) => logger.warn({ err: String(err) }, 'lease renewal failed; will retry'),
    });
    return new KvLeadership(lease, logger);
  }

  async start(onChange: (leader: boolean) => void): Promise<void> {
    this.lease.on('acquired', () => onChange(true));
    this.lease.on('lost', (reason) => {
      if (reason === 'superseded') this.logSuperseded();
      onChange(false);
    });
    await this.lease.tryAcquire().catch(() => false);
    this.lease.start();
  }

  async stop(): Promise<void> {
    await this.lease.stop(true);
  }

  isLeader(): boolean {
    return this.lease.canAct();
  }

  decider(): DeciderView {
    const o = this.lease.observe();
    return { present: o.present, holder: o.holder, self: o.self, reason: o.reason };
  }

  /**
   * A healthy holder renews every TTL/3, long before anyone may take over: a renewal that finds the key
   * written by another means a takeover after a pause of this process, or a client that is no instance.
   */
  private logSuperseded(): void {
    const by = this.lease.supersededBy;
    this.logger?.warn(
      {
        key: this.lease.key,
        holder: by?.holder ?? null,
        revision: by?.revision ?? null,
        ourRevision: by?.ourRevision ?? null,
        value: by?.value ?? null,
        ttlMs: this.lease.ttlMs,
      },
      'the decider lease was overwritten by someone else; stopped deciding, will take it back once that value lapses',
    );
  }
}
