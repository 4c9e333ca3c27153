/**
 * Pools under concurrency, over a real nats-server and the service in-process:
 *
 *   - PUT /v1/pools/X is create-or-replace under concurrency: 20 concurrent PUTs with different specs
 *     give one 201 and nineteen 200s, each an update applied in the order stored; a create that lost
 *     the race to another writer (PoolExists) is published again as an update, never answered 422;
 *   - optimistic concurrency: a pool's version (the stream sequence of the input whose
 *     ipam.pool.accepted last created or updated it) is its ETag and metadata.resourceVersion, over
 *     HTTP and NATS alike, and never part of an outcome; If-Match on PUT and DELETE with another
 *     version, or on a missing pool, is 412 PreconditionFailed with nothing published;
 *   - bounded reads: as-of pool reads beyond the limit are 503 with Retry-After while decisions go on;
 *     ipam.query.pools answers in pages with "limit" and "continue".
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { AS_OF_QUEUED, AS_OF_RUNNING } from '../../apps/ipam/src/http/audit.controller.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { publishInput, StreamAudit, waitFor } from '../support/stream-audit.js';

const STREAM = 'IPAM_POOLS_CC';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let service: IpamService;
let audit: StreamAudit;
let base = '';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  etag: string | null;
  retryAfter: string | null;
  body: Json;
}

async function http(
  method: string,
  path: string,
  json?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(30_000),
  });
  return {
    status: r.status,
    etag: r.headers.get('etag'),
    retryAfter: r.headers.get('retry-after'),
    body: (await r.json()) as Json,
  };
}

const pool = (name: string, subnet: string, description?: string) => ({
  metadata: { name },
  spec: {
    ...(description === undefined ? {} : { description }),
    ranges: [{ subnet }],
    selector: { scope: { namespace: name } },
  },
});

async function query(subject: string, body: unknown): Promise<Json> {
  const m = await nc.request(subject, JSON.stringify(body), { timeout: 10_000 });
  return m.json<Json>();
}

/** Runs `fn` and checks that it stored nothing in the stream. */
async function publishesNothing(fn: () => Promise<void>): Promise<void> {
  const before = await audit.lastSeq();
  await fn();
  expect(await audit.lastSeq()).toBe(before);
}

/** The accepted and rejected outcomes of pool `name`, in stream order. */
async function poolOutcomes(name: string) {
  await audit.refresh();
  return audit.outcomes().filter((o) => (o.body as unknown as { name?: string }).name === name);
}

beforeAll(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
  service = await startTestService(nats.url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: 'pools-cc-1' });
  await waitUntilLive(service);
  base = service.httpUrl;
  audit = new StreamAudit(nc, STREAM);
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
}, 30_000);

describe('PUT is create-or-replace under concurrency', () => {
  it('20 concurrent PUTs with different specs: one 201, nineteen 200s, applied in the order stored', async () => {
    const specs = Array.from({ length: 20 }, (_, i) => pool('race', '10.60.0.0/24', `writer ${i}`));
    const replies = await Promise.all(specs.map((s) => http('PUT', '/v1/pools/race', s)));
    expect(replies.map((r) => r.status).sort((a, b) => a - b)).toEqual([...Array<number>(19).fill(200), 201]);
    // the pool ends as the last accepted change in the stream says
    const accepted = (await poolOutcomes('race')).filter((o) => o.subject === 'ipam.pool.accepted');
    expect(accepted.map((o) => (o.body as unknown as { change: string }).change)).toEqual([
      'created',
      ...Array<string>(19).fill('updated'),
    ]);
    const last = accepted[accepted.length - 1].body as unknown as {
      causationSeq: number;
      spec: { description: string };
    };
    const now = await http('GET', '/v1/pools/race');
    expect(now.body).toMatchObject({
      metadata: { name: 'race', resourceVersion: String(last.causationSeq) },
      spec: { description: last.spec.description },
    });
    expect(now.etag).toBe(`"${last.causationSeq}"`);
    // each writer's description was in force at some point, in the order of their inputs
    const described = accepted.map(
      (o) => (o.body as unknown as { spec: { description: string } }).spec.description,
    );
    expect(new Set(described)).toEqual(new Set(specs.map((s) => s.spec.description)));
  }, 60_000);

  it('a create that lost the race to another writer (PoolExists) is applied as an update: 200, not 422', async () => {
    // Nobody decides for a while: the lease is overwritten (the service takes it back after its TTL).
    const kv = await new Kvm(jetstream(nc)).open('ipam-leader');
    await kv.put(STREAM, JSON.stringify({ holder: 'someone-else', expiresAt: Date.now() + 60_000 }));
    await waitFor('the service to stop deciding', () => !service.server.leader, { timeoutMs: 10_000 });
    // another writer's PoolCreated is stored first; the PUT sees no pool and publishes PoolCreated too
    const other = await publishInput(
      js,
      'ipam.pool.created',
      pool('contested', '10.61.0.0/24', 'other writer'),
    );
    const put = http('PUT', '/v1/pools/contested', pool('contested', '10.61.0.0/24', 'the PUT'));
    const r = await put;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ spec: { description: 'the PUT' } });
    const outcomes = await poolOutcomes('contested');
    expect(
      outcomes.map((o) => [
        o.subject,
        (o.body as unknown as { code?: string; change?: string }).code ??
          (o.body as unknown as { change: string }).change,
      ]),
    ).toEqual([
      ['ipam.pool.accepted', 'created'],
      ['ipam.pool.rejected', 'PoolExists'],
      ['ipam.pool.accepted', 'updated'],
    ]);
    expect(outcomes[0].body.causationSeq).toBe(other);
    expect(r.etag).toBe(`"${outcomes[2].body.causationSeq}"`);
    await waitUntilLive(service);
  }, 60_000);
});

describe('optimistic concurrency: ETag, resourceVersion, If-Match', () => {
  it('GET and PUT answer the version as the ETag and metadata.resourceVersion; NATS queries too', async () => {
    const created = await http('PUT', '/v1/pools/versioned', pool('versioned', '10.62.0.0/24', 'one'));
    expect(created.status).toBe(201);
    const [accepted] = (await poolOutcomes('versioned')).filter((o) => o.subject === 'ipam.pool.accepted');
    const v1 = String(accepted.body.causationSeq);
    expect(created.etag).toBe(`"${v1}"`);
    expect(created.body).toMatchObject({ metadata: { name: 'versioned', resourceVersion: v1 } });
    const got = await http('GET', '/v1/pools/versioned');
    expect(got.etag).toBe(`"${v1}"`);
    expect(await query('ipam.query.pool', { name: 'versioned' })).toMatchObject({
      metadata: { name: 'versioned', resourceVersion: v1 },
    });
    // allocations do not change the version; the outcome bodies never carry it
    const lb = await http('PUT', '/v1/loadbalancers/versioned/web', {});
    expect(lb.status).toBe(200);
    expect((await http('GET', '/v1/pools/versioned')).etag).toBe(`"${v1}"`);
    expect(Object.keys(accepted.body).sort()).toEqual([
      'causationId',
      'causationSeq',
      'change',
      'name',
      'spec',
    ]);
  });

  it('PUT with the current version updates (a new ETag); with another, or on a missing pool, 412 and nothing published', async () => {
    const first = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'one'));
    const v1 = first.etag!;
    const second = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'two'), {
      'if-match': v1,
    });
    expect(second.status).toBe(200);
    expect(second.etag).not.toBe(v1);
    expect(second.body).toMatchObject({ spec: { description: 'two' } });

    await publishesNothing(async () => {
      const stale = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'three'), {
        'if-match': v1,
      });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({
        code: 'PreconditionFailed',
        status: 412,
        resourceVersion: second.etag!.replace(/"/g, ''),
      });
      const weak = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'three'), {
        'if-match': `W/${second.etag!}`,
      });
      expect(weak.status).toBe(412);
      const missing = await http('PUT', '/v1/pools/nowhere', pool('nowhere', '10.64.0.0/24'), {
        'if-match': '*',
      });
      expect(missing.status).toBe(412);
      expect(missing.body).toMatchObject({
        code: 'PreconditionFailed',
        detail: expect.stringMatching(/does not exist/),
      });
    });
    expect((await http('GET', '/v1/pools/nowhere')).status).toBe(404);

    const star = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'four'), {
      'if-match': '*',
    });
    expect(star.status).toBe(200);
    const list = await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24', 'five'), {
      'if-match': `"1", ${star.etag!}`,
    });
    expect(list.status).toBe(200);
    expect(
      (await http('PUT', '/v1/pools/guarded', pool('guarded', '10.63.0.0/24'), { 'if-match': 'nonsense' }))
        .status,
    ).toBe(400);
  });

  it('DELETE with another version is 412 and deletes nothing; with the current one it deletes', async () => {
    const made = await http('PUT', '/v1/pools/doomed', pool('doomed', '10.65.0.0/24'));
    const changed = await http('PUT', '/v1/pools/doomed', pool('doomed', '10.65.0.0/24', 'changed'));
    await publishesNothing(async () => {
      const stale = await http('DELETE', '/v1/pools/doomed', undefined, { 'if-match': made.etag! });
      expect(stale.status).toBe(412);
    });
    expect((await http('GET', '/v1/pools/doomed')).status).toBe(200);
    const gone = await http('DELETE', '/v1/pools/doomed', undefined, { 'if-match': changed.etag! });
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ name: 'doomed', change: 'deleted' });
    await publishesNothing(async () => {
      expect((await http('DELETE', '/v1/pools/doomed', undefined, { 'if-match': '*' })).status).toBe(412);
    });
  });
});

describe('bounded reads', () => {
  it(`as-of pool reads: ${AS_OF_RUNNING} at a time and ${AS_OF_QUEUED} waiting, beyond that 503 with Retry-After; decisions go on`, async () => {
    expect((await http('PUT', '/v1/pools/busy', pool('busy', '10.66.0.0/16'))).status).toBe(201);
    // a stream long enough for a read to take a while: 5,000 requests and their outcomes
    const acks = [];
    for (let i = 0; i < 5000; i++) {
      acks.push(
        js.publish('ipam.lb.requested', JSON.stringify({ metadata: { namespace: 'busy', name: `lb-${i}` } })),
      );
    }
    const lastInput = (await Promise.all(acks)).at(-1)!.seq;
    await waitFor('every request answered', () => service.allocator.lastAnswered >= lastInput, {
      timeoutMs: 60_000,
    });
    const end = await waitFor('the last outcome stored', async () => {
      await audit.refresh();
      const answered = audit.outcomesByCause().get(lastInput);
      return answered ? answered[0].seq : null;
    });
    const asked = 12;
    const reads = Array.from({ length: asked }, () => http('GET', `/v1/audit/pools/busy?seq=${end}`));
    // decisions while the reads run
    const during = Array.from({ length: 5 }, (_, i) => http('PUT', `/v1/loadbalancers/busy/during-${i}`, {}));
    const answers = await Promise.all(reads);
    const ok = answers.filter((r) => r.status === 200);
    const busy = answers.filter((r) => r.status === 503);
    expect(ok.length + busy.length).toBe(asked);
    expect(ok.length).toBeGreaterThanOrEqual(AS_OF_RUNNING + AS_OF_QUEUED);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect(r.body).toMatchObject({
        code: 'Unavailable',
        detail: expect.stringMatching(/as-of pool reads/),
      });
    }
    for (const r of ok) {
      expect(r.body).toMatchObject({ asOfSeq: end, status: { allocated: expect.any(Object) } });
      expect(Object.keys((r.body.status as { allocated: Json }).allocated)).toHaveLength(5000);
    }
    for (const r of await Promise.all(during)) expect(r.status).toBe(200);
    // and a read after the others is answered again
    expect((await http('GET', `/v1/audit/pools/busy?seq=${end}`)).status).toBe(200);
  }, 120_000);

  it('ipam.query.pools answers in pages with "limit" and "continue", and every pool without them', async () => {
    const all = (await query('ipam.query.pools', {})) as { items: Array<{ metadata: { name: string } }> };
    const names = all.items.map((p) => p.metadata.name);
    expect(names.length).toBeGreaterThan(3);
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = (await query('ipam.query.pools', { limit: 2, ...(token ? { continue: token } : {}) })) as {
        items: Array<{ metadata: { name: string; resourceVersion: string } }>;
        continue?: string;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((p) => p.metadata.name));
      token = page.continue;
    } while (token !== undefined);
    expect(paged).toEqual(names);
    expect(await query('ipam.query.pools', { limit: 0 })).toMatchObject({
      error: { code: 'InvalidRequest' },
    });
    expect(await query('ipam.query.pools', { limit: 1, continue: 'bogus' })).toMatchObject({
      error: { code: 'InvalidRequest' },
    });
  });
});
