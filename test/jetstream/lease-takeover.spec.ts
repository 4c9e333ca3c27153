/**
 * A restart on the same host after a crash: the dead process's lease does not have to be waited out,
 * while a live holder's lease still blocks.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { holderProcessGone, KvLease } from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

const TTL = 60_000; // long enough that expiry can never be the reason a test acquires

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  return pid;
}

describe('taking over the lease of a crashed process on the same host', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  const leases: KvLease[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
  });
  afterAll(async () => {
    for (const l of leases) await l.stop(false).catch(() => undefined);
    await nats.stop();
  });

  /** Writes a valid (unexpired) lease as if another process held it. */
  async function plant(key: string, pid: number, host = hostname()): Promise<void> {
    const kv = await new Kvm(nc).create('ipam-lease-takeover', { history: 1 });
    await kv.put(
      key,
      JSON.stringify({ holder: `other:${pid}`, expiresAt: Date.now() + TTL, ttlMs: TTL, host, pid }),
    );
  }

  async function contender(key: string): Promise<KvLease> {
    const l = await KvLease.open(nc, {
      bucket: 'ipam-lease-takeover',
      key,
      holderId: `me:${process.pid}`,
      ttlMs: TTL,
      holderGone: holderProcessGone,
    });
    leases.push(l);
    return l;
  }

  it('acquires at once when the holder was a process of this host that no longer exists', async () => {
    await plant('dead', await deadPid());
    const l = await contender('dead');
    expect(await l.tryAcquire()).toBe(true);
    expect(l.canAct()).toBe(true);
  });

  it('waits while the holder process is alive', async () => {
    await plant('alive', process.ppid);
    const l = await contender('alive');
    expect(await l.tryAcquire()).toBe(false);
  });

  it('waits when the holder ran on another host, whatever its pid', async () => {
    await plant('elsewhere', await deadPid(), `not-${hostname()}`);
    const l = await contender('elsewhere');
    expect(await l.tryAcquire()).toBe(false);
  });
});
