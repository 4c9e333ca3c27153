/**
 * Failover timing of the lease (libs/jetstream lease.ts), on a real nats-server:
 *
 * - a standby polls for a takeover at TTL/10 (not at the renewal period), so a crashed holder's lease is
 *   taken soon after it lapses, and never before;
 * - a holder's release is seen through a watch of the key: the standby takes the lease at once, without
 *   waiting for its next poll.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { KvLease } from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { waitFor } from '../support/stream-audit.js';

describe('lease failover', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  const leases: KvLease[] = [];
  let n = 0;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
  });
  afterEach(async () => {
    for (const l of leases.splice(0)) await l.stop(false).catch(() => undefined);
  });
  afterAll(async () => {
    await nats.stop();
  });

  /** A lease on a key of the test's own, of an instance on a host of its own ("another host"). */
  async function lease(key: string, holderId: string, opts: { ttlMs: number; pollIntervalMs?: number }) {
    const l = await KvLease.open(nc, { bucket: 'ipam-lease-failover', key, holderId, ...opts });
    leases.push(l);
    return l;
  }

  it('by default renews every TTL/3, polls for a takeover every TTL/10 while standing by, stops acting TTL/5 early', async () => {
    const l = await lease(`k${++n}`, 'a', { ttlMs: 2500 });
    expect({ renew: l.renewIntervalMs, poll: l.pollIntervalMs, margin: l.safetyMarginMs }).toEqual({
      renew: 833,
      poll: 250,
      margin: 500,
    });
  });

  it('a standby takes over the lease of a holder that crashed (stopped renewing), once its expiry has passed', async () => {
    const key = `k${++n}`;
    const holder = await lease(key, 'host-a:1', { ttlMs: 2000 });
    holder.start();
    await waitFor('the first holder', () => holder.isHeld());
    const standby = await lease(key, 'host-b:1', { ttlMs: 2000 });
    standby.start();
    // the crash: renewals stop, nothing is released
    await holder.stop(false);
    const expiresAt = holder.expiresAt;
    await waitFor('the standby to hold the lease', () => standby.isHeld(), {
      timeoutMs: 8000,
      intervalMs: 5,
    });
    const taken = Date.now();
    expect(taken).toBeGreaterThanOrEqual(expiresAt);
    const kv = await new Kvm(nc).open('ipam-lease-failover');
    expect((await kv.get(key))!.json<{ holder: string }>().holder).toBe('host-b:1');
  });

  it('a standby takes a released lease at once, through its watch of the key, long before its next poll', async () => {
    const key = `k${++n}`;
    // with these settings only the watch can explain a takeover within the wait below
    const opts = { ttlMs: 120_000, pollIntervalMs: 120_000 };
    const holder = await lease(key, 'host-a:2', opts);
    holder.start();
    await waitFor('the first holder', () => holder.isHeld());
    const standby = await lease(key, 'host-b:2', opts);
    standby.start();
    await waitFor('the standby to have looked once and stood by', async () => {
      const o = standby.observe();
      return o.holder === 'host-a:2';
    });
    expect(standby.isHeld()).toBe(false);
    await holder.stop(true);
    await waitFor('the standby to hold the lease', () => standby.isHeld(), {
      timeoutMs: 5000,
      intervalMs: 5,
    });
  });
});
