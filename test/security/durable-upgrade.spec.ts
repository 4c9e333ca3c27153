/**
 * An earlier version's durable consumer that the service may not delete, over a real nats-server
 * running the shipped configuration (deploy/nats) with one right taken away: the ipam-service user is
 * denied `$JS.API.CONSUMER.DELETE.IPAM.ipam-allocator`. The built service runs as a child process.
 *
 * The service replaces an earlier version's durable (ack policy explicit, one ack per message) by one
 * that acknowledges in batches, which takes deleting it. Refused, it proves here that it:
 *
 *   - says so ('could not replace the durable consumer of an earlier version ...') and keeps that
 *     durable as it is: ack policy explicit;
 *   - decides every input, stored before it started and after, exactly once, and acknowledges every
 *     delivery one by one: nothing left pending, the ack floor at the stream's last message;
 *   - does not take the durable it kept for one changed by someone else: several of its 2 s consumer
 *     checks later it has logged no 'recreating it', ipam_durable_consumer_lost_total is 0, and it
 *     still runs.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { ensureIpamStream } from '../../libs/jetstream/src/index.js';
import {
  serviceMetric,
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { sleep, StreamAudit, waitFor } from '../support/stream-audit.js';
import { loadBalancer } from '../service/doc-examples.js';
import {
  input,
  publishAll,
  randomLbInputs,
  seededRandom,
  workloadPools,
  type Input,
} from '../service/workload.js';
import { startSecuredNats, type SecuredNats } from './support.js';

const STREAM = 'IPAM';
const DURABLE = 'ipam-allocator';
const DELETE_DURABLE = `$JS.API.CONSUMER.DELETE.${STREAM}.${DURABLE}`;

const KEPT_EXPLICIT =
  'could not replace the durable consumer of an earlier version (may this user delete it?); reading on with one ack per message';

/** Where ipam-users.conf explains the service user's right to delete its durable consumer. */
const DELETE_RIGHT_COMMENT = '# The service deletes its durable consumer only to replace one';

/**
 * ipam-users.conf with the service user's publish section denying the deletion of its durable consumer
 * (deny wins over the `$JS.API.CONSUMER.DELETE.IPAM.*` it is allowed).
 */
function withoutDurableDelete(text: string): string {
  const at = text.indexOf(DELETE_RIGHT_COMMENT);
  if (at < 0 || text.indexOf(DELETE_RIGHT_COMMENT, at + 1) >= 0) {
    throw new Error(`ipam-users.conf no longer has exactly one "${DELETE_RIGHT_COMMENT}"`);
  }
  const lineStart = text.lastIndexOf('\n', at) + 1;
  const indent = text.slice(lineStart, at);
  return `${text.slice(0, lineStart)}${indent}deny: [ "${DELETE_DURABLE}" ]\n${text.slice(lineStart)}`;
}

let nats: SecuredNats;

beforeEach(async () => {
  requireBuiltService();
  nats = await startSecuredNats({ usersConf: withoutDurableDelete });
}, 30_000);

afterEach(async () => {
  await stopAllServices();
  await nats?.stop();
}, 30_000);

/** How nats-server words a refused publish. */
const refusedPublish = (subject: string): RegExp =>
  new RegExp(`Permissions Violation for Publish to "${subject.replace(/[$.*>]/g, (c) => `\\${c}`)}"`);

/** The stream as the service creates it, and the durable consumer as an earlier version made it. */
async function earlierVersionsDurable(jsm: JetStreamManager): Promise<void> {
  await ensureIpamStream(jsm, { name: STREAM, denyDeleteAndPurge: true });
  await jsm.consumers.add(STREAM, {
    durable_name: DURABLE,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 60_000_000_000,
    max_ack_pending: 50_000,
  });
}

/** Load balancer requests for the pool "global" (namespace "work"). */
function lbRequests(count: number, idPrefix: string): Input[] {
  return Array.from({ length: count }, (_, i) =>
    input('ipam.lb.requested', loadBalancer('work', `${idPrefix}-${i}`), `${idPrefix}-${i}`),
  );
}

/** The stdout lines of `svc` whose message contains `text`. */
function linesWith(svc: ServiceProcess, text: string): string[] {
  return svc
    .stdout()
    .split('\n')
    .filter((l) => l.includes(text));
}

describe("an earlier version's durable consumer the service may not delete", () => {
  it('given the delete of the explicit-ack durable refused, then the service reads on with it, answers every input exactly once, acknowledges every delivery, and never flags that durable as lost', async () => {
    // the service's user may not delete the durable: the edited configuration is the one running
    const asService = await jetstreamManager(await nats.connectAs('service'));
    await earlierVersionsDurable(asService);
    await expect(asService.consumers.delete(STREAM, DURABLE)).rejects.toThrow(refusedPublish(DELETE_DURABLE));

    const js: JetStreamClient = jetstream(await nats.connectAs('publisher'));
    const audit = new StreamAudit(await nats.connectAs('auditor'), STREAM);
    const asAuditor = await jetstreamManager(await nats.connectAs('auditor'));
    // inputs stored before the service starts
    const before = await publishAll(js, [...workloadPools('kept'), ...lbRequests(5, 'kept-before')]);

    const svc = spawnService(
      testServiceEnv(nats.url, {
        ...nats.envOf('service'),
        IPAM_STREAM: STREAM,
        IPAM_INSTANCE_ID: 'kept-explicit',
        LOG_LEVEL: 'info',
      }),
    );
    await svc.waitForLine(KEPT_EXPLICIT, 30_000);
    const warning = JSON.parse(linesWith(svc, KEPT_EXPLICIT)[0]) as { level: number; err: string };
    expect(warning.level).toBe(40); // warn
    expect(warning.err).toMatch(refusedPublish(DELETE_DURABLE));
    const url = await svc.httpUrl();

    // inputs stored after it kept the durable: requests, deletes, the odd unreadable body
    const after = await publishAll(js, randomLbInputs(seededRandom(41), 30, 'kept-after'));

    await waitFor(
      'every input answered',
      async () => {
        await audit.refresh();
        return audit.unanswered().length === 0 && audit.inputs().length === before.length + after.length;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await audit.waitUntilAllAnswered();
    const outcomes = audit.outcomesByCause();
    for (const seq of [...before, ...after]) expect([seq, outcomes.get(seq)?.length]).toEqual([seq, 1]);
    audit.assertExactlyOnce();
    // decided as usual: the pools accepted, the load balancers before it started given addresses
    expect(before.map((seq) => outcomes.get(seq)?.[0].subject)).toEqual([
      'ipam.pool.accepted',
      'ipam.pool.accepted',
      ...Array<string>(5).fill('ipam.ip.allocated'),
    ]);

    // the durable kept: explicit acks, each delivery acknowledged up to the stream's last message
    const acked = await waitFor(
      'the durable consumer to have acknowledged the whole stream',
      async () => {
        const last = (await asAuditor.streams.info(STREAM)).state.last_seq;
        const info = await asAuditor.consumers.info(STREAM, DURABLE);
        return info.num_ack_pending === 0 && info.ack_floor.stream_seq === last ? { info, last } : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(acked.info.config.ack_policy).toBe(AckPolicy.Explicit);
    expect(acked.info.num_pending).toBe(0);

    // several consumer checks later (every 2 s): the kept durable was never taken for a lost one
    await sleep(5_000);
    const info = await asAuditor.consumers.info(STREAM, DURABLE);
    expect(info.config.ack_policy).toBe(AckPolicy.Explicit);
    expect(info.created).toBe(acked.info.created);
    expect(linesWith(svc, 'recreating it')).toEqual([]);
    expect(linesWith(svc, 'recreated the durable consumer')).toEqual([]);
    expect(linesWith(svc, 'replaced the durable consumer')).toEqual([]);
    expect(linesWith(svc, KEPT_EXPLICIT)).toHaveLength(1);
    expect(await serviceMetric(url, 'ipam_durable_consumer_lost_total')).toBe(0);
    expect(svc.isRunning()).toBe(true);
  }, 120_000);
});
