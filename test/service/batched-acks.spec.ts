/**
 * The decider acknowledges its durable consumer in batches (ack policy all: one ack covers every
 * delivery up to it), over a real nats-server with the built service as a child process:
 *
 *   - a fresh durable is created with ack policy all; a burst of inputs is answered once each and
 *     acknowledged with far fewer acks than deliveries, the last covering everything;
 *   - a durable made by an earlier version (explicit acks, one per message) is replaced by one that
 *     starts after what the service has read: the inputs stored before the switch, while no decider
 *     ran, and after it are each answered exactly once.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../support/nats.js';
import {
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  waitForLeader,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { StreamAudit, waitFor } from '../support/stream-audit.js';
import { publishAll, randomLbInputs, seededRandom, workloadPools, type Input } from './workload.js';

const STREAM = 'IPAM_ACKS';
const DURABLE = 'ipam-allocator';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;

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

function start(id: string): ServiceProcess {
  return spawnService(
    testServiceEnv(nats.url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: id, LOG_LEVEL: 'info' }),
  );
}

/** Publishes every input at once (no waiting between them); resolves with their sequences. */
async function publishBurst(inputs: Input[]): Promise<number[]> {
  const acks = await Promise.all(inputs.map((i) => js.publish(i.subject, i.data, { msgID: i.id })));
  return acks.map((a) => a.seq);
}

/** Waits until every input of the stream has exactly one outcome; fails on any second one. */
async function everyInputAnsweredOnce(audit: StreamAudit, inputs: number): Promise<void> {
  await waitFor(
    `${inputs} inputs answered`,
    async () => {
      await audit.refresh();
      return audit.inputs().length === inputs &&
        audit.inputs().every((i) => (audit.outcomesByCause().get(i.seq)?.length ?? 0) >= 1)
        ? true
        : null;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  for (const i of audit.inputs()) expect(audit.outcomesByCause().get(i.seq)).toHaveLength(1);
}

/** Waits until the durable consumer has delivered and been acknowledged for the whole stream. */
async function durableCoversStream(): Promise<{ ack_policy: string; ackFloor: number; last: number }> {
  const jsm = await jetstreamManager(nc);
  return waitFor(
    'the durable consumer acknowledged up to the last message',
    async () => {
      const last = (await jsm.streams.info(STREAM)).state.last_seq;
      const info = await jsm.consumers.info(STREAM, DURABLE);
      return info.ack_floor.stream_seq === last && info.num_ack_pending === 0 && info.num_pending === 0
        ? { ack_policy: info.config.ack_policy, ackFloor: info.ack_floor.stream_seq, last }
        : null;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

describe('acknowledging in batches', () => {
  it('given a burst of 400 inputs, then each is answered once and far fewer acks than deliveries cover the stream', async () => {
    const svc = start('acks-1');
    await waitForLeader(nc, STREAM, svc);
    await svc.waitForLine('created the durable consumer', 20_000);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.consumers.info(STREAM, DURABLE)).config.ack_policy).toBe(AckPolicy.All);

    // every ack the service sends to its durable consumer goes to $JS.ACK.<stream>.<durable>...
    let acks = 0;
    const watch = nc.subscribe(`$JS.ACK.${STREAM}.${DURABLE}.>`, {
      callback: () => {
        acks++;
      },
    });
    await nc.flush();
    await publishAll(js, workloadPools('acks'));
    await publishBurst(randomLbInputs(seededRandom(13), 400, 'acks-burst'));

    const audit = new StreamAudit(nc, STREAM);
    await everyInputAnsweredOnce(audit, workloadPools('acks').length + 400);
    const covered = await durableCoversStream();
    expect(covered.ack_policy).toBe(AckPolicy.All);
    await nc.flush();
    watch.unsubscribe();
    const deliveries = covered.last; // every input and every outcome, each delivered once
    expect(acks).toBeGreaterThan(0);
    expect(acks).toBeLessThan(deliveries / 4);
  }, 120_000);

  it("given an earlier version's durable with explicit acks, then it is replaced after the position and every input is answered exactly once", async () => {
    // the earlier version ran: it made the stream and decided the pools
    const first = start('acks-old');
    await waitForLeader(nc, STREAM, first);
    await publishAll(js, workloadPools('mig'));
    const audit = new StreamAudit(nc, STREAM);
    await everyInputAnsweredOnce(audit, workloadPools('mig').length);
    await first.terminate('SIGTERM');

    // its durable, as that version made it (explicit acks), with deliveries not yet acknowledged
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(STREAM, DURABLE);
    await jsm.consumers.add(STREAM, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 60_000_000_000,
      max_ack_pending: 50_000,
    });
    const held = await (await js.consumers.get(STREAM, DURABLE)).fetch({ max_messages: 3, expires: 2000 });
    for await (const m of held) void m; // delivered, never acknowledged
    // inputs stored while no decider runs
    const rand = seededRandom(29);
    await publishAll(js, randomLbInputs(rand, 30, 'mig-while-down'));

    const next = start('acks-new');
    await next.waitForLine('replaced the durable consumer; acknowledging in batches', 30_000);
    await publishBurst(randomLbInputs(rand, 50, 'mig-after'));
    await everyInputAnsweredOnce(audit, workloadPools('mig').length + 80);
    const covered = await durableCoversStream();
    expect(covered.ack_policy).toBe(AckPolicy.All);
    expect(next.stdout()).toContain(
      'the durable consumer acknowledges one message at a time (made by an earlier version); replacing it with one that acknowledges in batches',
    );
    expect(next.isRunning()).toBe(true);
  }, 120_000);
});
