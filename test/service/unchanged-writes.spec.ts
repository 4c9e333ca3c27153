/**
 * No write without a change: a pool applied again with the spec it has (`PUT /v1/pools/{name}`,
 * `ipam apply -f`) publishes nothing, so the stream grows with changes only. "The spec it has" is the
 * canonical form the domain compares (canonicalSpecKey): the same ranges and selector written another
 * way (YAML or JSON, keys in another order, status and metadata from a GET, unknown fields that are
 * dropped) are the same spec. The unknown fields are still named in warnings, on every apply, as
 * kubectl does. Against a real nats-server and the service in-process; the witness is the stream's last
 * sequence, read from JetStream.
 */
import { stringify as toYaml } from 'yaml';
import { EventStore } from '../../libs/jetstream/src/index.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { captureIo, lines } from '../cli/support.js';
import { run } from '../../apps/cli/src/main.js';

const STREAM = 'IPAM_UNCHANGED';
let nats: TestNats;
let service: IpamService;

type Json = Record<string, unknown>;

const POOL = {
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'steady' },
  spec: {
    ranges: [{ subnet: '10.81.0.0/24', rangeStart: '10.81.0.10', rangeEnd: '10.81.0.99' }],
    selector: { priority: 2, scope: [{ namespace: 'steady' }] },
  },
};

async function lastSeq(): Promise<number> {
  const nc = await nats.connect();
  try {
    return await new EventStore(nc, STREAM).lastSeq();
  } finally {
    await nc.close();
  }
}

async function put(
  body: string,
  type = 'application/json',
): Promise<{ status: number; etag: string | null; body: Json }> {
  const r = await fetch(`${service.httpUrl}/v1/pools/steady`, {
    method: 'PUT',
    headers: { 'content-type': type },
    body,
  });
  return { status: r.status, etag: r.headers.get('etag'), body: (await r.json()) as Json };
}

async function get(): Promise<Json> {
  return (await (await fetch(`${service.httpUrl}/v1/pools/steady`)).json()) as Json;
}

async function etag(): Promise<string | null> {
  return (await fetch(`${service.httpUrl}/v1/pools/steady`)).headers.get('etag');
}

async function ipamApply(yaml: string) {
  const c = captureIo({ stdin: yaml });
  const code = await run(
    ['apply', '-f', '-', '--server', nats.url, '--stream', STREAM, '--timeout', '10'],
    c.io,
  );
  return { code, out: c.out(), err: c.err() };
}

beforeAll(async () => {
  nats = await startTestNats();
  service = await startTestService(nats.url, { IPAM_STREAM: STREAM, LOG_LEVEL: 'silent' });
  await waitUntilLive(service);
  const created = await put(JSON.stringify(POOL));
  expect(created.status).toBe(201);
}, 30_000);

afterAll(async () => {
  await service?.close();
  await nats?.stop();
});

describe('PUT /v1/pools/{name} with the spec the pool has', () => {
  it('answers 200 with the pool as it is (its version as the ETag), and publishes nothing', async () => {
    const before = await lastSeq();
    const current = await get();
    const version = await etag();
    const r = await put(JSON.stringify(POOL));
    expect(r.status).toBe(200);
    expect(r.body).toEqual(current);
    expect(version).toMatch(/^"\d+"$/);
    expect(r.etag).toBe(version);
    expect(await etag()).toBe(version);
    expect(r.body).not.toHaveProperty('warnings');
    expect(await lastSeq()).toBe(before);
  });

  it('is the same spec written another way: YAML, keys reordered, defaults spelled out, status from a GET', async () => {
    const before = await lastSeq();
    const current = await get();
    const rewritten = {
      ...current,
      spec: {
        selector: {
          scope: [{ guestCluster: '', namespace: 'steady', project: '' }],
          priority: 2,
        },
        ranges: [{ rangeEnd: '10.81.0.99', rangeStart: '10.81.0.10', subnet: '10.81.0.0/24' }],
      },
    };
    const r = await put(toYaml(rewritten), 'application/yaml');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(current);
    expect(await lastSeq()).toBe(before);
  });

  it('unknown fields are dropped: still unchanged, nothing published, and the warnings say what was dropped', async () => {
    const before = await lastSeq();
    const withUnknown = {
      ...POOL,
      spec: {
        ...POOL.spec,
        colour: 'red',
        ranges: [{ ...POOL.spec.ranges[0], type: 'range' }],
      },
    };
    const r = await put(JSON.stringify(withUnknown));
    expect(r.status).toBe(200);
    expect(r.body.warnings).toEqual([
      'unknown field "spec.ranges[0].type" was dropped',
      'unknown field "spec.colour" was dropped',
    ]);
    expect(await lastSeq()).toBe(before);
  });

  it('a changed spec is published (the witness moves) and answers 200 updated', async () => {
    const before = await lastSeq();
    const changed = { ...POOL, spec: { ...POOL.spec, description: 'now described' } };
    const r = await put(JSON.stringify(changed));
    expect(r.status).toBe(200);
    expect((r.body.spec as Json).description).toBe('now described');
    // the input and its outcome
    expect(await lastSeq()).toBe(before + 2);
  });

  it('and the same changed spec again publishes nothing', async () => {
    const before = await lastSeq();
    const r = await put(JSON.stringify({ ...POOL, spec: { ...POOL.spec, description: 'now described' } }));
    expect(r.status).toBe(200);
    expect(await lastSeq()).toBe(before);
  });
});

describe('ipam apply -f with the spec the pool has', () => {
  const yaml = toYaml({ ...POOL, spec: { ...POOL.spec, description: 'now described' } });

  it('prints "ippool/NAME unchanged" and publishes nothing', async () => {
    const before = await lastSeq();
    const r = await ipamApply(yaml);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual(['ippool/steady unchanged']);
    expect(r.code).toBe(0);
    expect(await lastSeq()).toBe(before);
  });

  it('with unknown fields: unchanged, nothing published, a Warning line for each dropped field', async () => {
    const before = await lastSeq();
    const r = await ipamApply(yaml.replace('spec:\n', 'spec:\n  colour: red\n'));
    expect(lines(r.out)).toEqual(['ippool/steady unchanged']);
    expect(lines(r.err)).toEqual(['Warning: unknown field "spec.colour" was dropped']);
    expect(r.code).toBe(0);
    expect(await lastSeq()).toBe(before);
  });

  it('a changed pool is published: "updated", and the witness moves', async () => {
    const before = await lastSeq();
    const r = await ipamApply(yaml.replace('priority: 2', 'priority: 3'));
    expect(lines(r.out)).toEqual(['ippool/steady updated']);
    expect(await lastSeq()).toBeGreaterThan(before);
  });
});
