/**
 * The bus under the shipped permissions (deploy/nats/nats-server.conf): a real nats-server with that
 * configuration, the service in-process as `ipam-service`, the ipam CLI as `operator` and `auditor`,
 * and a `publisher` trying each attack of issue 11 that worked on an open server: forging an outcome,
 * deleting or changing the durable consumer, overwriting the lease, purging or deleting the stream,
 * reading another user's inbox, answering the service's queries. Each fails with a permissions
 * violation, and the service goes on deciding.
 *
 * The tests of this file share one server and one service, and build on the pools applied first.
 */
import { jetstream, jetstreamManager, AckPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { run } from '../../apps/cli/src/main.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { connectIpam, isQueryError, type IpamClient } from '../../libs/ipam-client/src/index.js';
import { captureIo, type CliResult } from '../cli/support.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { publishInput, StreamAudit, waitFor } from '../support/stream-audit.js';
import { DOC_EXAMPLE_3 } from '../service/doc-examples.js';
import { startSecuredNats, USERS, type Role, type SecuredNats } from './support.js';

const STREAM = 'IPAM';
const DURABLE = 'ipam-allocator';

let nats: SecuredNats;
let service: IpamService | undefined;
/** the publisher's connection, and a JetStream manager on it (no API check: it may not ask) */
let pub: NatsConnection;
let pubJsm: JetStreamManager;
/** the auditor's view of the stream */
let audit: StreamAudit;

async function ipam(role: Role, argv: string[]): Promise<CliResult> {
  const c = captureIo({ env: { ...nats.envOf(role), IPAM_STREAM: STREAM } });
  const code = await run(['--timeout', '10', ...argv], c.io);
  return { code, out: c.out(), err: c.err() };
}

/** How nats-server words a refused publish or subscription. */
const refusedPublish = (subject: string): RegExp =>
  new RegExp(`Permissions Violation for Publish to "${subject.replace(/[$.*>]/g, (c) => `\\${c}`)}"`);
const refusedSubscription = (subject: string): RegExp =>
  new RegExp(`Permissions Violation for Subscription to "${subject.replace(/[$.*>]/g, (c) => `\\${c}`)}"`);

async function streamState(): Promise<{ messages: number; first: number; last: number }> {
  const nc = await nats.connectAs('auditor');
  try {
    const info = await (await jetstreamManager(nc)).streams.info(STREAM);
    return { messages: info.state.messages, first: info.state.first_seq, last: info.state.last_seq };
  } finally {
    await nc.close();
  }
}

async function durableConfig(): Promise<{
  durable_name?: string;
  max_ack_pending?: number;
  ack_wait?: number;
}> {
  const nc = await nats.connectAs('auditor');
  try {
    return (await (await jetstreamManager(nc)).consumers.info(STREAM, DURABLE)).config;
  } finally {
    await nc.close();
  }
}

/** A client of the publisher's user (inputs and queries only). */
function publisherClient(): Promise<IpamClient> {
  return connectIpam({
    servers: nats.url,
    user: USERS.publisher.user,
    pass: nats.password('publisher'),
    inboxPrefix: USERS.publisher.inboxPrefix,
    timeoutMs: 10_000,
  });
}

/** Waits until the service says `namespace/name` holds an address, and returns it. */
async function addressOf(client: IpamClient, namespace: string, name: string): Promise<string> {
  return waitFor(`${namespace}/${name} to hold an address`, async () => {
    const reply = await client.loadBalancer(namespace, name);
    return isQueryError(reply) ? null : reply.ip;
  });
}

beforeAll(async () => {
  nats = await startSecuredNats();
  service = await startTestService(nats.url, {
    ...nats.envOf('service'),
    IPAM_STREAM: STREAM,
    IPAM_INSTANCE_ID: 'secured-1',
  });
  await waitUntilLive(service);
  pub = await nats.connectAs('publisher');
  pubJsm = await jetstreamManager(pub, { checkAPI: false });
  audit = new StreamAudit(await nats.connectAs('auditor'), STREAM);
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

describe('the service and the ipam CLI under their users', () => {
  it('the service created the stream with deny_delete and deny_purge', async () => {
    const nc = await nats.connectAs('auditor');
    const info = await (await jetstreamManager(nc)).streams.info(STREAM);
    await nc.close();
    expect(info.config.deny_delete).toBe(true);
    expect(info.config.deny_purge).toBe(true);
  });

  it('the service reads through its durable consumer with ack policy all (acknowledged in batches)', async () => {
    const config = (await durableConfig()) as { ack_policy?: string };
    expect(config.ack_policy).toBe(AckPolicy.All);
  });

  it('the operator applies the doc-page pools and gets a load balancer its address', async () => {
    const applied = await ipam('operator', ['apply', '-f', 'docs/examples/harvester-doc-examples.yaml']);
    expect(applied).toMatchObject({ code: 0, err: '' });
    expect(applied.out).toBe(
      'ippool/default-ip-pool created\nippool/rke2-ip-pool created\nippool/default-ip-pool-2 created\nippool/global-ip-pool created\n',
    );
    const requested = await ipam('operator', ['request', 'lb', 'default/web']);
    expect(requested).toMatchObject({ code: 0, err: '' });
    expect(requested.out).toMatch(/^default\/web\s+default-ip-pool-2\s+192\.168\.200\.2\s/m);
  });

  it('a publisher publishes inputs and asks queries; the service answers both', async () => {
    const client = await publisherClient();
    try {
      const published = await client.publish('ipam.lb.requested', {
        metadata: { namespace: 'default', name: 'from-publisher' },
      });
      expect(published.seq).toBeGreaterThan(0);
      expect(await addressOf(client, 'default', 'from-publisher')).toBe('192.168.200.3');
      const pools = await client.pools();
      expect(isQueryError(pools) ? pools : pools.items.map((p) => p.metadata.name).sort()).toEqual([
        'default-ip-pool',
        'default-ip-pool-2',
        'global-ip-pool',
        'rke2-ip-pool',
      ]);
    } finally {
      await client.close();
    }
  });

  it('the auditor verifies the log with ipam replay --verify and reads the audit timelines', async () => {
    const verified = await ipam('auditor', ['replay', '--verify']);
    expect(verified).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(/^verified: all 6 inputs decided the same way \(0 unanswered\)$/m);
    const timeline = await ipam('auditor', ['audit', 'address', '192.168.200.2']);
    expect(timeline).toMatchObject({ code: 0, err: '' });
    expect(timeline.out).toMatch(/^default\/web\s+default-ip-pool-2\s/m);
  });

  it('the auditor publishes no input', async () => {
    const nc = await nats.connectAs('auditor');
    try {
      const lb = JSON.stringify({ metadata: { namespace: 'default', name: 'auditor-lb' } });
      await expect(jetstream(nc).publish('ipam.lb.requested', lb)).rejects.toThrow(
        refusedPublish('ipam.lb.requested'),
      );
    } finally {
      await nc.close();
    }
  });
});

describe('a publisher cannot subvert the bus', () => {
  it('cannot publish an outcome: a forged ipam.pool.accepted is refused, not stored, and the pool stays rejected', async () => {
    const js = jetstream(pub);
    // a pool overlapping default-ip-pool-2: validation rejects it
    const overlapping = { ...DOC_EXAMPLE_3, metadata: { name: 'overlapping-pool' } };
    const seq = await publishInput(js, 'ipam.pool.created', overlapping, 'forgery-input-1');
    const forged = {
      causationSeq: seq,
      causationId: 'forgery-input-1',
      pool: overlapping.spec,
      name: 'overlapping-pool',
    };
    await expect(js.publish('ipam.pool.accepted', JSON.stringify(forged))).rejects.toThrow(
      refusedPublish('ipam.pool.accepted'),
    );

    const outcome = await audit.waitForOutcome(seq);
    expect(outcome.subject).toBe('ipam.pool.rejected');
    await audit.refresh();
    const answers = [...audit.records.values()].filter(
      (r) => r.seq > seq && JSON.parse(new TextDecoder().decode(r.data)).causationSeq === seq,
    );
    expect(answers.map((r) => r.subject)).toEqual(['ipam.pool.rejected']);

    const client = await publisherClient();
    try {
      const pool = await client.pool('overlapping-pool');
      expect(isQueryError(pool) ? pool.error.code : pool).toBe('UnknownPool');
    } finally {
      await client.close();
    }
  });

  it('cannot delete or change the durable consumer', async () => {
    const before = await durableConfig();
    await expect(pubJsm.consumers.delete(STREAM, DURABLE)).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.DELETE.${STREAM}.${DURABLE}`),
    );
    // an update is a create of the same name with another configuration
    const update = { stream_name: STREAM, config: { ...before, max_ack_pending: 1 }, action: 'update' };
    await expect(
      pub.request(`$JS.API.CONSUMER.CREATE.${STREAM}.${DURABLE}`, JSON.stringify(update)),
    ).rejects.toThrow(refusedPublish(`$JS.API.CONSUMER.CREATE.${STREAM}.${DURABLE}`));
    await expect(
      pubJsm.consumers.add(STREAM, { durable_name: 'stolen', ack_policy: AckPolicy.Explicit }),
    ).rejects.toThrow(refusedPublish(`$JS.API.CONSUMER.CREATE.${STREAM}.stolen`));
    await expect(pub.request(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${DURABLE}`, '1')).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${DURABLE}`),
    );
    const after = await durableConfig();
    expect(after).toEqual(before);
    expect(after).toMatchObject({ durable_name: DURABLE, max_ack_pending: 50_000 });
  });

  it('cannot write or delete the lease; the service keeps deciding', async () => {
    const kv = await new Kvm(jetstream(service!.connection)).open('ipam-leader');
    const lease = await kv.get(STREAM);
    expect(lease?.string()).toContain('secured-1');

    const js = jetstream(pub);
    await expect(js.publish('$KV.ipam-leader.IPAM', '{"holder":"attacker"}')).rejects.toThrow(
      refusedPublish('$KV.ipam-leader.IPAM'),
    );
    await expect(pub.request('$JS.API.STREAM.PURGE.KV_ipam-leader', '{}')).rejects.toThrow(
      refusedPublish('$JS.API.STREAM.PURGE.KV_ipam-leader'),
    );
    await expect(pub.request('$JS.API.STREAM.INFO.KV_ipam-leader')).rejects.toThrow(
      refusedPublish('$JS.API.STREAM.INFO.KV_ipam-leader'),
    );
    expect((await kv.get(STREAM))?.string()).toContain('secured-1');

    const client = await publisherClient();
    try {
      await client.publish('ipam.lb.requested', { metadata: { namespace: 'default', name: 'after-lease' } });
      expect(await addressOf(client, 'default', 'after-lease')).toBe('192.168.200.4');
    } finally {
      await client.close();
    }
  });

  it('cannot purge or delete the stream or any message of it', async () => {
    const before = await streamState();
    await expect(pubJsm.streams.purge(STREAM)).rejects.toThrow(
      refusedPublish(`$JS.API.STREAM.PURGE.${STREAM}`),
    );
    await expect(pubJsm.streams.delete(STREAM)).rejects.toThrow(
      refusedPublish(`$JS.API.STREAM.DELETE.${STREAM}`),
    );
    await expect(pubJsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(
      refusedPublish(`$JS.API.STREAM.MSG.DELETE.${STREAM}`),
    );
    const update = { name: STREAM, subjects: ['ipam.>'], max_msgs: 1, deny_purge: false, deny_delete: false };
    await expect(pub.request(`$JS.API.STREAM.UPDATE.${STREAM}`, JSON.stringify(update))).rejects.toThrow(
      refusedPublish(`$JS.API.STREAM.UPDATE.${STREAM}`),
    );
    expect(await streamState()).toEqual(before);
    expect(before.first).toBe(1);
  });

  it("cannot subscribe to another user's inbox, to every subject, or to the service's queries", async () => {
    for (const subject of [
      '_INBOX_ipam_service.>',
      '_INBOX_operator.>',
      '_INBOX_auditor.>',
      '_INBOX.>',
      '>',
    ]) {
      const sub = pub.subscribe(subject);
      const closedWith = await sub.closed;
      expect(String(closedWith)).toMatch(refusedSubscription(subject));
    }
    const answering = pub.subscribe('ipam.query.lb', { queue: 'ipam-query' });
    expect(String(await answering.closed)).toMatch(refusedSubscription('ipam.query.lb'));
    // the connection is still usable, and its own inbox still receives
    const client = await publisherClient();
    try {
      expect(await addressOf(client, 'default', 'web')).toBe('192.168.200.2');
    } finally {
      await client.close();
    }
  });
});

describe.each(['auditor', 'operator'] as const)('the %s cannot take over the service', (role) => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nc = await nats.connectAs(role);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc.close();
  });

  it('reads the stream but cannot delete, change or pull from the durable consumer', async () => {
    const before = await durableConfig();
    await expect(jsm.consumers.delete(STREAM, DURABLE)).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.DELETE.${STREAM}.${DURABLE}`),
    );
    await expect(jsm.consumers.update(STREAM, DURABLE, { max_ack_pending: 1 })).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.CREATE.${STREAM}.${DURABLE}`),
    );
    // the nameless create (whose body may name any consumer) is not allowed at all ...
    const nameless = { stream_name: STREAM, config: { name: DURABLE, ack_policy: 'explicit' } };
    await expect(nc.request(`$JS.API.CONSUMER.CREATE.${STREAM}`, JSON.stringify(nameless))).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.CREATE.${STREAM}`),
    );
    // ... and a create under another name cannot reach the durable either
    const renamed = { stream_name: STREAM, config: { durable_name: DURABLE, ack_policy: 'explicit' } };
    const reply = await nc.request(`$JS.API.CONSUMER.CREATE.${STREAM}.other`, JSON.stringify(renamed));
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ error: { err_code: 10017 } });
    await expect(nc.request(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${DURABLE}`, '1')).rejects.toThrow(
      refusedPublish(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${DURABLE}`),
    );
    expect(await durableConfig()).toEqual(before);
  });

  it('cannot publish an outcome, write the lease, or purge the stream', async () => {
    const js = jetstream(nc);
    await expect(js.publish('ipam.ip.allocated', '{"causationSeq":1}')).rejects.toThrow(
      refusedPublish('ipam.ip.allocated'),
    );
    await expect(js.publish('$KV.ipam-leader.IPAM', '{}')).rejects.toThrow(
      refusedPublish('$KV.ipam-leader.IPAM'),
    );
    await expect(jsm.streams.purge(STREAM)).rejects.toThrow(refusedPublish(`$JS.API.STREAM.PURGE.${STREAM}`));
    await expect(jsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(
      refusedPublish(`$JS.API.STREAM.MSG.DELETE.${STREAM}`),
    );
  });

  it("cannot subscribe to the service's inbox or its queries", async () => {
    for (const subject of ['_INBOX_ipam_service.>', '_INBOX_publisher.>', 'ipam.query.>']) {
      const sub = nc.subscribe(subject, { queue: subject === 'ipam.query.>' ? 'ipam-query' : undefined });
      expect(String(await sub.closed)).toMatch(refusedSubscription(subject));
    }
  });
});

describe('after every attempt', () => {
  it('every input has exactly one outcome and replay --verify agrees', async () => {
    await audit.waitUntilAllAnswered();
    audit.assertExactlyOnce();
    const verified = await ipam('auditor', ['replay', '--verify']);
    expect(verified).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(/^verified: all 8 inputs decided the same way \(0 unanswered\)$/m);
  });

  it('the service, the operator and the auditor were refused nothing they do in their work', () => {
    // nats-server logs every refusal: `Publish Violation - User "auditor", Subject "..."`
    const refusals = nats.server
      .output()
      .split('\n')
      .filter((l) => / Violation - User /.test(l));
    expect(refusals.filter((l) => /User "ipam-service"/.test(l))).toEqual([]);
    expect(refusals.length).toBeGreaterThan(0);
  });
});
