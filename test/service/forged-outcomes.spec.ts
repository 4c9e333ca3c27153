/**
 * Forged outcomes over a real nats-server, with no key or permission configured: any client publishes
 * an outcome for an input (issue 11's attack: an `ipam.pool.accepted` for a pool that overlaps another,
 * right after its `ipam.pool.created`). The fold re-decides each input and accepts only the outcome this
 * build decides, so the forgery never changes the state: it is refused, logged, counted in
 * `ipam_outcomes_refused_total`, and reported by `ipam replay --verify`; the input still gets exactly
 * one accepted outcome, under a retry id when the forger took the deterministic one first.
 *
 * Each test has its own stream and services, and stops them.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decide, initialState, type IpamEvent } from '../../libs/ipam-domain/src/index.js';
import { inputCommand, outcomeMsgId } from '../../libs/ipam-contract/src/index.js';
import { AllocatorMetrics } from '../../apps/ipam/src/allocator/allocator.metrics.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { replayCommand } from '../../apps/cli/src/commands/replay.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { publishInput, sleep, StreamAudit, waitFor, type OutcomeRecord } from '../support/stream-audit.js';
import { captureIo, lines } from '../cli/support.js';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let streams = 0;
const services: IpamService[] = [];
const encoder = new TextEncoder();

beforeAll(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
}, 30_000);

afterEach(async () => {
  for (const s of services.splice(0)) await s.close().catch(() => undefined);
  // one stream per server may hold the contract's subjects: each test removes its own
  const jsm = await js.jetstreamManager();
  for (const name of created.splice(0)) await jsm.streams.delete(name).catch(() => undefined);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Pool A holds 10.80.0.0/24 for namespace a; pool B overlaps it for namespace b (validation rejects B). */
const POOL_A = {
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'pool-a' },
  spec: { ranges: [{ subnet: '10.80.0.0/24' }], selector: { scope: [{ namespace: 'a' }] } },
};
const POOL_B = {
  ...POOL_A,
  metadata: { name: 'pool-b' },
  spec: { ranges: [{ subnet: '10.80.0.0/24' }], selector: { scope: [{ namespace: 'b' }] } },
};
const lb = (namespace: string, name: string) => ({ metadata: { namespace, name } });

const created: string[] = [];

function newStream(): string {
  const name = `IPAM_FORGED_${++streams}`;
  created.push(name);
  return name;
}

async function startService(stream: string, instance: string): Promise<IpamService> {
  const s = await startTestService(nats.url, { IPAM_STREAM: stream, IPAM_INSTANCE_ID: instance });
  services.push(s);
  return s;
}

/**
 * The forger's `ipam.pool.accepted` for POOL_B as input `seq`: what the domain would accept on a state
 * without pool A, so it looks exactly like a real one.
 */
function forgedAcceptance(seq: number, inputId: string): string {
  const command = inputCommand(
    'ipam.pool.created',
    encoder.encode(JSON.stringify(POOL_B)),
    { seq, id: inputId },
    65536,
  );
  const [event] = decide(command, initialState());
  expect(event.type).toBe('PoolAccepted');
  return JSON.stringify(event.data);
}

/**
 * Publishes POOL_B's creation and, right behind it on the same connection, the forged acceptance: the
 * forgery is stored right after the input, before any service could answer it.
 */
async function createPoolBWithForgery(stream: string, forgedMsgId?: (seq: number) => string) {
  const seq = (await new StreamAudit(nc, stream).lastSeq()) + 1;
  const inputId = `create-pool-b-${seq}`;
  const [input, forged] = await Promise.all([
    js.publish('ipam.pool.created', JSON.stringify(POOL_B), { msgID: inputId }),
    js.publish('ipam.pool.accepted', forgedAcceptance(seq, inputId), {
      msgID: forgedMsgId ? forgedMsgId(seq) : `forger-${seq}`,
    }),
  ]);
  expect([input.seq, forged.seq]).toEqual([seq, seq + 1]);
  return { seq, forgedSeq: forged.seq };
}

/** Every outcome stored for the input at `seq`, once the service's rejection is there (and a moment after). */
async function outcomesOf(audit: StreamAudit, seq: number): Promise<OutcomeRecord[]> {
  await waitFor(`the service's outcome for seq ${seq}`, async () => {
    await audit.refresh();
    return audit
      .outcomesByCause()
      .get(seq)
      ?.some((o) => o.subject === 'ipam.pool.rejected');
  });
  await sleep(300);
  await audit.refresh();
  return audit.outcomesByCause().get(seq) ?? [];
}

async function refusedCount(service: IpamService, subject: string, reason: string): Promise<number> {
  const metric = service.app.get(AllocatorMetrics).registry.getSingleMetric('ipam_outcomes_refused_total');
  const values = (await metric!.get()).values;
  return values.find((v) => v.labels.subject === subject && v.labels.reason === reason)?.value ?? 0;
}

async function replayVerify(stream: string) {
  const c = captureIo();
  const code = await replayCommand(['--verify', '--server', nats.url, '--stream', stream], c.io);
  return { code, out: lines(c.out()) };
}

describe('a forged ipam.pool.accepted right after its ipam.pool.created (issue 11)', () => {
  it('never changes the state of the leader or a standby; the second load balancer gets no held address', async () => {
    // given a leader and a standby, pool A, and a load balancer holding 10.80.0.2 from it
    const stream = newStream();
    const first = await startService(stream, 'forged-1');
    await waitUntilLive(first);
    const standby = await startService(stream, 'forged-2');
    const audit = new StreamAudit(nc, stream);
    const a = await publishInput(js, 'ipam.pool.created', POOL_A, 'create-pool-a');
    expect((await audit.waitForOutcome(a)).subject).toBe('ipam.pool.accepted');
    const held = await publishInput(js, 'ipam.lb.requested', lb('a', 'first'), 'lb-a-first');
    expect((await audit.waitForOutcome(held)).body).toMatchObject({ ip: '10.80.0.2' });

    // when a forger publishes an acceptance of the overlapping pool B right after its creation
    const { seq, forgedSeq } = await createPoolBWithForgery(stream);

    // then the service still answers the creation with its own decision, a RangeOverlap rejection
    const outcomes = await outcomesOf(audit, seq);
    expect(outcomes.map((o) => [o.seq, o.subject, o.msgId])).toEqual([
      [forgedSeq, 'ipam.pool.accepted', `forger-${seq}`],
      [expect.any(Number), 'ipam.pool.rejected', `${stream}:outcome:${seq}`],
    ]);
    const answer: IpamEvent | null = await first.allocator.waitForOutcome(seq, 5_000);
    expect(answer).toMatchObject({ type: 'PoolRejected', data: { name: 'pool-b', causationSeq: seq } });

    // and a second load balancer, in pool B's namespace, gets no address
    const second = await publishInput(js, 'ipam.lb.requested', lb('b', 'second'), 'lb-b-second');
    const rejected = await audit.waitForOutcome(second);
    expect(rejected.subject).toBe('ipam.lb.rejected');
    expect(rejected.body).toMatchObject({ loadBalancer: 'b/second', code: 'NoMatchingPool' });

    // and neither instance has pool B, both refused the forgery and counted it
    for (const s of [first, standby]) {
      await waitFor('the instance to read the stream', () => s.allocator.lastAnswered >= second);
      expect([...s.allocator.state.pools.keys()]).toEqual(['pool-a']);
      expect(await refusedCount(s, 'ipam.pool.accepted', 'differs')).toBe(1);
    }
    expect(first.allocator.isLive).toBe(true);

    // and ipam replay --verify reports the refused outcome and goes on: every input matched
    const r = await replayVerify(stream);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      'verified: all 4 inputs decided the same way (0 unanswered)',
      'refused: 1 stored outcome not accepted by this build (never applied); the first:',
      expect.stringMatching(
        new RegExp(`^  seq ${forgedSeq} ipam\\.pool\\.accepted \\{"name":"pool-b","change":"created"`),
      ),
      expect.stringMatching(
        new RegExp(
          `^  refused: not this build's answer to input seq ${seq} \\(ipam\\.pool\\.rejected \\{.*"code":"RangeOverlap"`,
        ),
      ),
    ]);
  }, 40_000);

  it('taking the deterministic message id first: the service publishes its outcome again under a retry id', async () => {
    // given a deciding service and pool A
    const stream = newStream();
    const service = await startService(stream, 'forged-3');
    await waitUntilLive(service);
    const audit = new StreamAudit(nc, stream);
    const a = await publishInput(js, 'ipam.pool.created', POOL_A, 'create-pool-a');
    await audit.waitForOutcome(a);

    // when the forgery carries the id the service publishes the outcome of that input under
    const { seq, forgedSeq } = await createPoolBWithForgery(stream, (s) => outcomeMsgId(stream, s));

    // then JetStream drops the service's first publish as a duplicate, and the service's outcome is
    // stored under the retry id; the input has exactly one outcome the fold accepts
    const outcomes = await outcomesOf(audit, seq);
    expect(outcomes.map((o) => [o.seq, o.subject, o.msgId])).toEqual([
      [forgedSeq, 'ipam.pool.accepted', `${stream}:outcome:${seq}`],
      [expect.any(Number), 'ipam.pool.rejected', `${stream}:outcome:${seq}:r1`],
    ]);
    expect(await service.allocator.waitForOutcome(seq, 5_000)).toMatchObject({ type: 'PoolRejected' });
    expect([...service.allocator.state.pools.keys()]).toEqual(['pool-a']);
    expect(await refusedCount(service, 'ipam.pool.accepted', 'differs')).toBe(1);

    // and later inputs are answered as usual
    const next = await publishInput(js, 'ipam.lb.requested', lb('a', 'next'), 'lb-a-next');
    expect((await audit.waitForOutcome(next)).body).toMatchObject({ ip: '10.80.0.2' });
    const r = await replayVerify(stream);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('verified: all 3 inputs decided the same way (0 unanswered)');
    expect(r.out[1]).toBe('refused: 1 stored outcome not accepted by this build (never applied); the first:');
  }, 40_000);

  it('stored while no service runs: the service starting on the stream refuses it and answers under a retry id', async () => {
    // given pool A and B's creation with a forged acceptance under the deterministic id, and no service
    const stream = newStream();
    const audit = new StreamAudit(nc, stream);
    const warmup = await startService(stream, 'forged-4');
    await waitUntilLive(warmup);
    const a = await publishInput(js, 'ipam.pool.created', POOL_A, 'create-pool-a');
    await audit.waitForOutcome(a);
    await warmup.close();
    const { seq, forgedSeq } = await createPoolBWithForgery(stream, (s) => outcomeMsgId(stream, s));

    // with no decider, replay --verify shows the input as diverged: its only outcome is refused
    const before = await replayVerify(stream);
    expect(before.code).toBe(1);
    expect(before.out[0]).toBe(`divergence at input seq ${seq} (ipam.pool.created):`);

    // when a service starts on the stream
    const service = await startService(stream, 'forged-5');
    await waitUntilLive(service);

    // then it answers the input with its own decision under the retry id, and pool B is not in its state
    const outcomes = await outcomesOf(audit, seq);
    expect(outcomes.map((o) => [o.seq, o.subject, o.msgId])).toEqual([
      [forgedSeq, 'ipam.pool.accepted', `${stream}:outcome:${seq}`],
      [expect.any(Number), 'ipam.pool.rejected', `${stream}:outcome:${seq}:r1`],
    ]);
    await waitFor('the outcome to be read back', () => service.allocator.lastAnswered >= seq);
    expect([...service.allocator.state.pools.keys()]).toEqual(['pool-a']);
    expect(await refusedCount(service, 'ipam.pool.accepted', 'differs')).toBe(1);
    const after = await replayVerify(stream);
    expect(after.code).toBe(0);
    expect(after.out[0]).toBe('verified: all 2 inputs decided the same way (0 unanswered)');
  }, 40_000);
});
