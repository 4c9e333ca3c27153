/**
 * libs/ipam-client against a real nats-server and the service running in-process: publish an input
 * with a message id and get its outcome, typed by subject; follow outcomes; the queries; and what an
 * integrator sees when the service or the stream is not there.
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { IpamService } from '../../apps/ipam/src/service.js';
import {
  connectIpam,
  IpamClient,
  IpamClientError,
  isQueryError,
  type Outcome,
} from '../../libs/ipam-client/src/index.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { publishInput } from '../support/stream-audit.js';

const STREAM = 'IPAM_CLIENT';

const pool = (name: string, subnet: string, namespace: string) => ({
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name },
  spec: { ranges: [{ subnet }], selector: { scope: [{ namespace }] } },
});
const lb = (namespace: string, name: string) => ({ metadata: { namespace, name } });

let nats: TestNats;
let service: IpamService;
let ipam: IpamClient;
let nc: NatsConnection;
/** the address team-a/web got (and released later) */
let webIp: string;

beforeAll(async () => {
  nats = await startTestNats();
  service = await startTestService(nats.url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: 'client-spec' });
  await waitUntilLive(service);
  ipam = await connectIpam({ servers: nats.url, stream: STREAM, timeoutMs: 10_000 });
  nc = await nats.connect();
}, 30_000);

afterAll(async () => {
  await ipam?.close();
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

describe('publishAndWait', () => {
  it('publishes with a generated Nats-Msg-Id and resolves with the outcome whose causationSeq is its seq', async () => {
    const created = await ipam.publishAndWait(
      'ipam.pool.created',
      pool('client-a', '10.61.0.0/24', 'team-a'),
    );
    expect(created.msgId).toMatch(/^ipam-client-[0-9a-f-]{36}$/);
    expect(created.duplicate).toBe(false);
    expect(created.outcome).toMatchObject({
      subject: 'ipam.pool.accepted',
      type: 'PoolAccepted',
      body: { name: 'client-a', change: 'created', causationSeq: created.seq, causationId: created.msgId },
    });
    expect(created.outcome.seq).toBeGreaterThan(created.seq);

    const requested = await ipam.publishAndWait('ipam.lb.requested', lb('team-a', 'web'), { msgId: 'web-1' });
    expect(requested.msgId).toBe('web-1');
    // narrowing on the subject types the body
    if (requested.outcome.subject !== 'ipam.ip.allocated') throw new Error(JSON.stringify(requested.outcome));
    const allocated: { ip: string; prefixLength: number } = requested.outcome.body;
    expect(allocated).toMatchObject({ ip: expect.stringMatching(/^10\.61\.0\.\d+$/), prefixLength: 24 });
    webIp = allocated.ip;
    expect(requested.outcome.body).toMatchObject({ ipPool: 'client-a', causationSeq: requested.seq });
  });

  it('a repeated msgId is stored once: the same seq, marked duplicate, and the same outcome', async () => {
    const first = await ipam.publishAndWait('ipam.lb.requested', lb('team-a', 'retried'), {
      msgId: 'retry-1',
    });
    const again = await ipam.publishAndWait('ipam.lb.requested', lb('team-a', 'retried'), {
      msgId: 'retry-1',
    });
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
    expect(again.outcome).toEqual(first.outcome);
  });

  it('a rejection is an outcome too, with its code and reason', async () => {
    const r = await ipam.publishAndWait('ipam.lb.requested', lb('nowhere', 'x'));
    expect(r.outcome.subject).toBe('ipam.lb.rejected');
    if (r.outcome.subject === 'ipam.lb.rejected') {
      expect(r.outcome.body.code).toBe('NoMatchingPool');
      expect(r.outcome.body.reason).toMatch(/nowhere/);
    }
  });

  it('many inputs in flight at once each get their own outcome (one shared read of the stream)', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `many-${i}`);
    const results = await Promise.all(
      names.map((n) => ipam.publishAndWait('ipam.lb.requested', lb('team-a', n))),
    );
    const ips = new Set<string>();
    results.forEach((r, i) => {
      expect(r.outcome.body.causationSeq).toBe(r.seq);
      if (r.outcome.subject !== 'ipam.ip.allocated') throw new Error(JSON.stringify(r.outcome));
      expect(r.outcome.body.loadBalancer).toBe(`team-a/${names[i]}`);
      ips.add(r.outcome.body.ip);
    });
    expect(ips.size).toBe(names.length);
  });

  it('awaitOutcome finds the outcome of an input published earlier by someone else', async () => {
    const seq = await publishInput(jetstream(nc), 'ipam.lb.requested', lb('team-a', 'elsewhere'));
    await ipam.publishAndWait('ipam.lb.requested', lb('team-a', 'after-it')); // the shared read is past it now
    const o = await ipam.awaitOutcome(seq, 5000, 'ipam.lb.requested');
    expect(o.subject).toBe('ipam.ip.allocated');
    expect(o.body).toMatchObject({ loadBalancer: 'team-a/elsewhere', causationSeq: seq });
  });
});

describe('outcomes(fromSeq)', () => {
  it('yields every outcome from a sequence in stream order, typed, and waits for new ones', async () => {
    const { seq } = await ipam.publishAndWait('ipam.lb.deleted', lb('team-a', 'web'));
    const seen: Outcome[] = [];
    const iterate = (async () => {
      for await (const o of ipam.outcomes(seq)) {
        seen.push(o);
        if (seen.length === 2) break;
      }
    })();
    const later = await ipam.publishAndWait('ipam.lb.deleted', lb('team-a', 'never-held'));
    await iterate;
    expect(seen.map((o) => [o.subject, o.body.causationSeq])).toEqual([
      ['ipam.ip.released', seq],
      ['ipam.lb.rejected', later.seq],
    ]);
    expect(seen[0].seq).toBeLessThan(seen[1].seq);
    expect(seen[0].timeMs).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('queries', () => {
  it('answer with typed replies, and with {error: {code, reason}}', async () => {
    const pools = await ipam.pools();
    if (isQueryError(pools)) throw new Error(JSON.stringify(pools));
    expect(pools.items.map((p) => p.metadata.name)).toContain('client-a');

    const one = await ipam.pool('client-a');
    if (isQueryError(one)) throw new Error(JSON.stringify(one));
    expect(one.status.allocated[webIp]).toBeUndefined(); // team-a/web released it
    expect(one.status.allocatedHistory[webIp]).toBe('team-a/web');
    expect(await ipam.pool('missing')).toEqual({
      error: { code: 'UnknownPool', reason: expect.any(String) },
    });

    const held = await ipam.loadBalancer('team-a', 'retried');
    if (isQueryError(held)) throw new Error(JSON.stringify(held));
    expect(held).toMatchObject({ loadBalancer: 'team-a/retried', ipPool: 'client-a' });
    const none = await ipam.loadBalancer('team-a', 'web');
    expect(isQueryError(none) && none.error.code).toBe('UnknownLoadBalancer');

    const address = await ipam.auditAddress(webIp);
    if (isQueryError(address)) throw new Error(JSON.stringify(address));
    expect(address.holders.map((h) => [h.loadBalancer, h.to === null])).toEqual([['team-a/web', false]]);

    const history = await ipam.auditLoadBalancer('team-a', 'web');
    if (isQueryError(history)) throw new Error(JSON.stringify(history));
    expect(history.entries.map((e) => e.kind)).toEqual(['held']);
    const bad = await ipam.auditAddress('not-an-ip');
    expect(isQueryError(bad)).toBe(true);
  });
});

describe('failures an integrator can act on', () => {
  it('no stream: NoStream, nothing stored; no service: NoResponders at once and OutcomeTimeout with the seq', async () => {
    const elsewhere = new IpamClient(nc, { stream: 'NO_SUCH_STREAM', timeoutMs: 2000 });
    const noStream = await elsewhere.publish('ipam.lb.requested', lb('a', 'b')).catch((e: unknown) => e);
    expect(noStream).toBeInstanceOf(IpamClientError);
    expect(noStream).toMatchObject({ code: 'NoStream' });
    await elsewhere.close();
    expect(nc.isClosed()).toBe(false); // a client on a connection it did not make leaves it open

    await service.close();
    const started = Date.now();
    const query = await ipam.pools().catch((e: unknown) => e);
    expect(query).toMatchObject({
      code: 'NoResponders',
      message: expect.stringContaining('is the service running?'),
    });
    expect(Date.now() - started).toBeLessThan(2000);

    const timedOut = await ipam
      .publishAndWait('ipam.lb.requested', lb('team-a', 'unanswered'), { outcomeTimeoutMs: 500 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(IpamClientError);
    expect(timedOut).toMatchObject({ code: 'OutcomeTimeout', seq: expect.any(Number) });
    expect((timedOut as Error).message).toMatch(
      /was stored as seq \d+ of stream IPAM_CLIENT, but no outcome arrived within 0\.5 s/,
    );
  });
});
