/**
 * The control plane heals itself, over a real nats-server with the built service as child processes.
 * Each attack of issue 11 is made by a separate client, as anyone on the bus could:
 *
 *   - the durable consumer is deleted: the leader notices, logs it, recreates the consumer after its
 *     position and decides again, the input published meanwhile included; nothing is restarted;
 *   - the lease key is overwritten with a value naming someone else: the holder notices at its next
 *     renewal and logs what was written; /readyz says no decider (503 NotReady with the reason, and
 *     ipam_decider_present 0) until the service takes the lease back by the lease's rules; decisions
 *     resume;
 *   - the only decider is stopped (SIGSTOP: it holds a lease that has not lapsed yet, and decides
 *     nothing): a standby's /readyz says no decider is making progress, with the input waiting.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../support/nats.js';
import {
  serviceMetric,
  leaseHolder,
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  waitForLeader,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { publishInput, StreamAudit, waitFor } from '../support/stream-audit.js';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;

// a server of each test's own: its stream (never deleted), consumer and lease are the test's alone
beforeEach(async () => {
  requireBuiltService();
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
}, 30_000);

afterEach(async () => {
  await stopAllServices();
  await nats?.stop();
}, 30_000);

function freshStream(): string {
  return 'IPAM_HEAL';
}

function start(stream: string, id: string, env: Record<string, string> = {}): ServiceProcess {
  return spawnService(
    testServiceEnv(nats.url, { IPAM_STREAM: stream, IPAM_INSTANCE_ID: id, LOG_LEVEL: 'info', ...env }),
  );
}

type Json = Record<string, unknown>;

async function readyz(url: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: (await r.json()) as Json };
}

async function putPool(url: string, name: string, subnet: string): Promise<number> {
  const r = await fetch(`${url}/v1/pools/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      metadata: { name },
      spec: { ranges: [{ subnet }], selector: { scope: { namespace: 'default' } } },
    }),
    signal: AbortSignal.timeout(20_000),
  });
  return r.status;
}

/** Requests an address over HTTP; resolves with the answer's status and body. */
async function requestLb(url: string, name: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${url}/v1/loadbalancers/default/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(20_000),
  });
  return { status: r.status, body: (await r.json()) as Json };
}

/** The single outcome the stream holds for the input at `seq`, once there is one. */
async function outcomeOf(audit: StreamAudit, seq: number, timeoutMs = 15_000) {
  return waitFor(
    `an outcome of seq ${seq}`,
    async () => {
      await audit.refresh();
      const outs = audit.outcomesByCause().get(seq);
      return outs && outs.length > 0 ? outs : null;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

describe('a deleted durable consumer', () => {
  it('is noticed, logged and recreated; the input published meanwhile and the next ones are decided', async () => {
    const stream = freshStream();
    const a = start(stream, 'heal-consumer-a');
    await waitForLeader(nc, stream, a);
    const url = await a.httpUrl();
    await waitFor('a ready', async () => (await readyz(url)).status === 200, { timeoutMs: 15_000 });
    expect(await putPool(url, 'heal', '10.90.0.0/24')).toBe(201);
    expect((await requestLb(url, 'before')).status).toBe(200);

    // the attack, by a client of its own
    const attacker = await nats.connect();
    const jsm = await jetstreamManager(attacker);
    expect(await jsm.consumers.delete(stream, 'ipam-allocator')).toBe(true);
    // an input right after it: nothing delivers it until the consumer is back
    const seq = await publishInput(js, 'ipam.lb.requested', {
      metadata: { namespace: 'default', name: 'meanwhile' },
    });

    // the check runs every 2 s; the margin is for a loaded machine (a CI run saw more than 15 s)
    await a.waitForLine('the durable consumer was deleted (not by this service); recreating it', 40_000);
    await a.waitForLine('recreated the durable consumer; deciding again', 40_000);
    const audit = new StreamAudit(nc, stream);
    const [outcome] = await outcomeOf(audit, seq);
    expect(outcome.subject).toBe('ipam.ip.allocated');
    expect(outcome.body).toMatchObject({ loadBalancer: 'default/meanwhile', ipPool: 'heal' });

    const after = await requestLb(url, 'after');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ loadBalancer: 'default/after', ipPool: 'heal' });
    expect((await jsm.consumers.info(stream, 'ipam-allocator')).config.ack_policy).toBe('all');
    expect(await serviceMetric(url, 'ipam_durable_consumer_lost_total')).toBe(1);
    // every input answered exactly once
    await audit.refresh();
    for (const input of audit.inputs()) expect(audit.outcomesByCause().get(input.seq)).toHaveLength(1);
    expect(a.isRunning()).toBe(true);
  }, 120_000);
});

describe('an overwritten lease', () => {
  it('is detected and logged; /readyz says no decider meanwhile; the service takes the lease back and decides', async () => {
    const stream = freshStream();
    const a = start(stream, 'heal-lease-a');
    await waitForLeader(nc, stream, a);
    const url = await a.httpUrl();
    await waitFor('a ready', async () => (await readyz(url)).status === 200, { timeoutMs: 15_000 });
    expect(await putPool(url, 'lease', '10.91.0.0/24')).toBe(201);
    expect(await serviceMetric(url, 'ipam_decider_present')).toBe(1);

    // the attack: a value naming someone else, valid for an hour by its own word
    const attacker = await nats.connect();
    const kv = await new Kvm(jetstream(attacker)).open('ipam-leader');
    await kv.put(stream, JSON.stringify({ holder: 'intruder', expiresAt: Date.now() + 3_600_000 }));

    await a.waitForLine('the decider lease was overwritten by someone else', 10_000);
    const line = a
      .stdout()
      .split('\n')
      .find((l) => l.includes('the decider lease was overwritten by someone else'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, holder: 'intruder' }); // warn;

    // meanwhile: not ready, and why
    const notReady = await waitFor(
      'a /readyz 503 while nobody decides',
      async () => {
        const r = await readyz(url);
        return r.status === 503 ? r : null;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(notReady.body).toMatchObject({
      code: 'NotReady',
      detail: expect.stringMatching(/^no decider: .*intruder/),
      ready: false,
      deciding: false,
      reason: expect.stringMatching(/^no decider/),
    });

    // the lease comes back by its rules (the value is never renewed), and so do decisions and readiness
    await waitForLeader(nc, stream, a, 15_000);
    const r = await requestLb(url, 'after-intrusion');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ipPool: 'lease' });
    await waitFor('a ready again', async () => (await readyz(url)).status === 200, { timeoutMs: 15_000 });
    expect(await serviceMetric(url, 'ipam_decider_present')).toBe(1);
  }, 60_000);
});

describe('the only decider stopped', () => {
  it("makes a standby's /readyz say that no decider is making progress, until someone decides again", async () => {
    const stream = freshStream();
    // a long TTL: the stopped decider's lease stays valid for a while
    const env = { IPAM_LEASE_TTL_MS: '15000' };
    const a = start(stream, 'heal-stop-a', env);
    await waitForLeader(nc, stream, a);
    const b = start(stream, 'heal-stop-b', env);
    const urlA = await a.httpUrl();
    const urlB = await b.httpUrl();
    expect(await putPool(urlA, 'stop', '10.92.0.0/24')).toBe(201);
    // B is ready once it has seen A renew the lease
    await waitFor('b ready', async () => (await readyz(urlB)).status === 200, { timeoutMs: 20_000 });
    expect((await readyz(urlB)).body).toMatchObject({
      leader: false,
      deciding: true,
      decider: { holder: 'heal-stop-a' },
    });

    a.child.kill('SIGSTOP');
    try {
      const seq = await publishInput(js, 'ipam.lb.requested', {
        metadata: { namespace: 'default', name: 'waits' },
      });
      const notReady = await waitFor(
        "b's /readyz 503",
        async () => {
          const r = await readyz(urlB);
          return r.status === 503 ? r : null;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(notReady.body).toMatchObject({
        code: 'NotReady',
        detail: expect.stringMatching(/^no decider is making progress: 1 input\(s\) wait for an outcome/),
        deciding: false,
        decider: { present: true, holder: 'heal-stop-a', waiting: 1 },
      });
      expect(await serviceMetric(urlB, 'ipam_decider_present')).toBe(0);
      expect(await serviceMetric(urlB, 'ipam_ready')).toBe(0);

      // the decider is gone for good: B (same host) sees its process gone and takes over
      await a.kill9();
      await waitForLeader(nc, stream, b, 20_000);
      const audit = new StreamAudit(nc, stream);
      const [outcome] = await outcomeOf(audit, seq);
      expect(outcome.body).toMatchObject({ loadBalancer: 'default/waits', ipPool: 'stop' });
      await waitFor('b ready as the decider', async () => (await readyz(urlB)).status === 200, {
        timeoutMs: 15_000,
      });
      expect(await leaseHolder(nc, stream)).toBe('heal-stop-b');
    } finally {
      if (a.isRunning()) a.child.kill('SIGKILL');
    }
  }, 90_000);
});
