/**
 * Dry runs over the real server: ipam.query.whatif and HTTP's ?dryRun=All answer the outcome an input
 * would get now and the load balancers a pool change would affect, store nothing (the stream's last
 * sequence stays), and match what the real write then does. Each test uses pools of its own.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { serviceFixture, type ServiceFixture } from '../support/service-fixture.js';
import type { OutcomeRecord } from '../support/stream-audit.js';
import { schemaErrors } from '../support/wire-schemas.js';

const STREAM = 'IPAM_WHATIF';

let f: ServiceFixture;
let jsm: JetStreamManager;

type Json = Record<string, unknown>;

async function send(subject: string, body: unknown): Promise<OutcomeRecord> {
  return (await f.publish(subject, body)).outcome;
}

async function lastSeq(): Promise<number> {
  return (await jsm.streams.info(STREAM)).state.last_seq;
}

async function whatif(subject: string, body: unknown): Promise<Json> {
  return f.query<Json>('ipam.query.whatif', { subject, body });
}

/** An answer without what only a stored input has (its sequence and id, a pool's version). */
function comparable(body: Json): Json {
  const { causationSeq: _s, causationId: _i, seq: _q, ...rest } = body;
  if (typeof rest.metadata === 'object' && rest.metadata !== null) {
    const { resourceVersion: _v, ...metadata } = rest.metadata as Json;
    rest.metadata = metadata;
  }
  return rest;
}

/** An outcome body without what only a stored input has. */
function decided(body: Json): Json {
  const { causationSeq: _s, causationId: _i, ...rest } = body;
  return rest;
}

/** A what-if that stores nothing, checked against the contract's schema. */
async function dryRun(subject: string, body: unknown): Promise<Json> {
  const before = await lastSeq();
  const answer = await whatif(subject, body);
  expect(schemaErrors('WhatIf', answer)).toEqual([]);
  // the sequence the input would get if published now; no input has it yet
  expect((answer.body as Json).causationSeq).toBeGreaterThan(before);
  expect((answer.body as Json).causationId).toBeNull();
  expect(await lastSeq()).toBe(before);
  return answer;
}

/** The dry run of an input, then the input itself: both must say the same. */
async function dryThenReal(subject: string, body: unknown): Promise<{ dry: Json; real: OutcomeRecord }> {
  const dry = await dryRun(subject, body);
  const real = await send(subject, body);
  expect(dry.subject).toBe(real.subject);
  expect(decided(dry.body as Json)).toEqual(decided(real.body));
  return { dry, real };
}

const pool = (name: string, ranges: unknown[], namespace = name) => ({
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name },
  spec: { ranges, selector: { scope: [{ project: '*', namespace, guestCluster: '*' }] } },
});
const lb = (namespace: string, name: string, spec: Json = {}) => ({ metadata: { namespace, name }, spec });

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'whatif');
  jsm = await jetstreamManager(f.nc);
}, 30_000);

afterAll(() => f?.stop());

describe('ipam.query.whatif', () => {
  it('answers a pool create and a load balancer request as their publishes then are answered, storing nothing', async () => {
    const { dry } = await dryThenReal('ipam.pool.created', pool('wi-a', [{ subnet: '10.40.0.0/29' }]));
    expect(dry).toMatchObject({ subject: 'ipam.pool.accepted', body: { change: 'created' }, affected: [] });
    const request = await dryThenReal('ipam.lb.requested', lb('wi-a', 'web'));
    expect(request.real.body).toMatchObject({ ip: '10.40.0.2', ipPool: 'wi-a' });
    // a second dry run of the same request is answered on the new state: already holding
    const again = await dryRun('ipam.lb.requested', lb('wi-a', 'web'));
    expect(again.subject).toBe((await send('ipam.lb.requested', lb('wi-a', 'web'))).subject);
  });

  it('names the holders that block an update excluding their address and a delete (blocksUpdate, blocksDelete)', async () => {
    await send('ipam.pool.created', pool('wi-b', [{ subnet: '10.41.0.0/29' }]));
    const held = await send('ipam.lb.requested', lb('wi-b', 'one'));
    const ip = held.body.ip as string;
    const update = await dryThenReal(
      'ipam.pool.updated',
      pool('wi-b', [{ subnet: '10.41.0.0/29', exclude: [ip] }]),
    );
    expect(update.dry).toMatchObject({ subject: 'ipam.pool.rejected', body: { code: 'ExcludesAllocated' } });
    expect(update.dry.affected).toEqual([
      { loadBalancer: 'wi-b/one', ipPool: 'wi-b', ip, effect: 'blocksUpdate' },
    ]);
    const del = await dryThenReal('ipam.pool.deleted', { metadata: { name: 'wi-b' } });
    expect(del.dry).toMatchObject({ subject: 'ipam.pool.rejected', body: { code: 'PoolInUse' } });
    expect(del.dry.affected).toEqual([
      { loadBalancer: 'wi-b/one', ipPool: 'wi-b', ip, effect: 'blocksDelete' },
    ]);
  });

  it('names the history entries an update would prune, and those a delete drops (historyPruned)', async () => {
    await send('ipam.pool.created', pool('wi-c', [{ subnet: '10.42.0.0/29' }, { subnet: '10.42.1.0/29' }]));
    const held = await send('ipam.lb.requested', lb('wi-c', 'old', { ipPool: 'wi-c', ip: '10.42.1.3' }));
    expect(held.subject).toBe('ipam.ip.allocated');
    await send('ipam.lb.deleted', { metadata: { namespace: 'wi-c', name: 'old' } });
    const shrink = pool('wi-c', [{ subnet: '10.42.0.0/29' }]);
    const update = await dryRun('ipam.pool.updated', shrink);
    expect(update).toMatchObject({ subject: 'ipam.pool.accepted', body: { change: 'updated' } });
    expect(update.affected).toEqual([
      { loadBalancer: 'wi-c/old', ipPool: 'wi-c', ip: '10.42.1.3', effect: 'historyPruned' },
    ]);
    const del = await dryRun('ipam.pool.deleted', { metadata: { name: 'wi-c' } });
    expect(del).toMatchObject({ subject: 'ipam.pool.accepted', body: { change: 'deleted' } });
    expect(del.affected).toEqual(update.affected);
    // the update then does what the dry run said: the history entry is gone
    await dryThenReal('ipam.pool.updated', shrink);
    const view = (await f.nc.request('ipam.query.pool', JSON.stringify({ name: 'wi-c' }))).json<Json>();
    expect((view.status as Json).allocatedHistory).toEqual({});
  });

  it('answers a body the service cannot read with its InvalidEvent, and a request that is no input with InvalidRequest', async () => {
    const before = await lastSeq();
    const bad = await whatif('ipam.lb.requested', { metadata: { namespace: 7 } });
    expect(bad).toMatchObject({ subject: 'ipam.lb.rejected', body: { code: 'InvalidEvent' }, affected: [] });
    expect(await whatif('ipam.pool.accepted', {})).toMatchObject({ error: { code: 'InvalidRequest' } });
    const noBody = (
      await f.nc.request('ipam.query.whatif', JSON.stringify({ subject: 'ipam.pool.created' }))
    ).json();
    expect(noBody).toMatchObject({ error: { code: 'InvalidRequest' } });
    expect(await lastSeq()).toBe(before);
  });
});

describe('?dryRun=All over HTTP', () => {
  async function http(method: string, path: string, json?: unknown) {
    const r = await fetch(`${f.service.httpUrl}${path}`, {
      method,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: r.status, dryRunHeader: r.headers.get('dry-run'), body: (await r.json()) as Json };
  }

  /** A dry-run write, then the write: the same status and the same outcome; nothing stored by the first. */
  async function dryThenWrite(method: string, path: string, json?: unknown) {
    const before = await lastSeq();
    const dry = await http(method, `${path}${path.includes('?') ? '&' : '?'}dryRun=All`, json);
    expect(await lastSeq()).toBe(before);
    expect(dry.dryRunHeader).toBe('All');
    const { dryRun, affected, ...answer } = dry.body;
    expect(dryRun).toBe('All');
    expect(Array.isArray(affected)).toBe(true);
    const real = await http(method, path, json);
    // the write's own status and body, as the write then answers them
    expect(dry.status).toBe(real.status);
    expect(comparable(answer)).toEqual(comparable(real.body));
    return { dry, real };
  }

  it('PUT and DELETE of a pool, PUT and DELETE of a load balancer, and a force-release answer as the writes then do', async () => {
    const created = await dryThenWrite('PUT', '/v1/pools/wi-h', pool('wi-h', [{ subnet: '10.43.0.0/29' }]));
    expect(created.dry.status).toBe(201);
    expect(created.dry.body).toMatchObject({
      kind: 'IPPool',
      status: { total: 5, available: 5 },
      affected: [],
    });

    const updated = await dryThenWrite('PUT', '/v1/pools/wi-h', pool('wi-h', [{ subnet: '10.43.0.0/28' }]));
    expect(updated.dry.status).toBe(200);
    expect(updated.dry.body).toMatchObject({ status: { total: 13, available: 13 } });

    const put = await dryThenWrite('PUT', '/v1/loadbalancers/wi-h/web', lb('wi-h', 'web'));
    expect(put.dry.status).toBe(200);
    expect(put.dry.body).toMatchObject({ loadBalancer: 'wi-h/web', ip: put.real.body.ip });

    const inUse = await dryThenWrite('DELETE', '/v1/pools/wi-h');
    expect(inUse.dry.status).toBe(422);
    expect(inUse.dry.body).toMatchObject({ code: 'PoolInUse', dryRun: 'All' });
    expect(inUse.dry.body.affected).toEqual([
      { loadBalancer: 'wi-h/web', ipPool: 'wi-h', ip: put.real.body.ip, effect: 'blocksDelete' },
    ]);

    const release = await dryThenWrite('POST', `/v1/addresses/${String(put.real.body.ip)}/release`);
    expect(release.dry.body).toMatchObject({ loadBalancer: 'wi-h/web', forced: true });

    await http('PUT', '/v1/loadbalancers/wi-h/api', lb('wi-h', 'api'));
    const deleted = await dryThenWrite('DELETE', '/v1/loadbalancers/wi-h/api');
    expect(deleted.dry.body).toMatchObject({ loadBalancer: 'wi-h/api' });

    const gone = await dryThenWrite('DELETE', '/v1/pools/wi-h');
    expect(gone.dry.body).toMatchObject({ name: 'wi-h', change: 'deleted' });
    expect(gone.dry.body.affected).toEqual([
      { loadBalancer: 'wi-h/api', ipPool: 'wi-h', ip: deleted.real.body.ip, effect: 'historyPruned' },
      { loadBalancer: 'wi-h/web', ipPool: 'wi-h', ip: put.real.body.ip, effect: 'historyPruned' },
    ]);
  });

  it('answers 400 for any other dryRun value, publishing nothing', async () => {
    const before = await lastSeq();
    for (const value of ['true', 'all', '', 'All&dryRun=All']) {
      const r = await http(
        'PUT',
        `/v1/pools/wi-x?dryRun=${value}`,
        pool('wi-x', [{ subnet: '10.44.0.0/29' }]),
      );
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BadRequest');
    }
    expect(await lastSeq()).toBe(before);
  });
});
