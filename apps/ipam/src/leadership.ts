/**
 * One decider at a time: a lease in a KV bucket, taken and renewed by compare-and-set on the entry's
 * revision (libs/jetstream lease.ts). See docs/architecture.md for why and what happens when it fails.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { holderProcessGone, KvLease } from '../../../libs/jetstream/src/index.js';
import type { Leadership } from '../../../libs/nest-jetstream/src/index.js';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';

export class KvLeadership implements Leadership {
  constructor(private readonly lease: KvLease) {}

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
    return new KvLeadership(lease);
  }

  async start(onChange: (leader: boolean) => void): Promise<void> {
    this.lease.on('acquired', () => onChange(true));
    this.lease.on('lost', () => onChange(false));
    await this.lease.tryAcquire().catch(() => false);
    this.lease.start();
  }

  async stop(): Promise<void> {
    await this.lease.stop(true);
  }

  isLeader(): boolean {
    return this.lease.canAct();
  }
}
