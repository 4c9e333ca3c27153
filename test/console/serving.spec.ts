/**
 * The console as the service serves it, and the two endpoints made for it, over plain HTTP (Node's
 * fetch; a real nats-server and the built service):
 *
 *   GET / and the console's own paths            index.html (no-cache, a Content-Security-Policy of 'self')
 *   GET /assets/...                                the built files; a missing one is a 404, never index.html
 *   /v1/*, /healthz, /readyz, /metrics, /docs, /openapi.json   the API's, never index.html
 *   GET /v1/loadbalancers[?namespace=&pool=&limit=&continue=]  who holds what, with since
 *   GET /v1/events[?since=] (Last-Event-ID)        outcomes as server-sent events: id = stream sequence,
 *                                                  event = subject, data = the outcome body
 */
import { readFileSync } from 'node:fs';
import { spawnService, stopAllServices, testServiceEnv, type ServiceProcess } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { waitFor } from '../support/stream-audit.js';
import { apiCall, CONSOLE_INDEX, createPool, removePools, requireBuiltConsole } from './browser.js';

let nats: TestNats;
let service: ServiceProcess;
let base = '';

beforeAll(async () => {
  requireBuiltConsole();
  nats = await startTestNats();
  service = spawnService(testServiceEnv(nats.url, { LOG_LEVEL: 'info', IPAM_STREAM: 'IPAM_SERVING' }));
  base = await service.httpUrl(20_000);
  await waitFor('the service to be ready', async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await service?.terminate().catch(() => undefined);
  await stopAllServices();
  await nats?.stop();
}, 60_000);

const html = (path: string) => fetch(`${base}${path}`, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });

test('the console is served at / and at its own paths, the API paths stay the API', async () => {
  const index = readFileSync(CONSOLE_INDEX, 'utf8');
  for (const path of ['/', '/pools', '/pools/default-ip-pool/edit', '/audit/addresses/10.0.0.2']) {
    const r = await html(path);
    expect([path, r.status, r.headers.get('content-type')?.toLowerCase()]).toEqual([path, 200, 'text/html; charset=utf-8']);
    expect(await r.text()).toBe(index);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self';.*connect-src 'self'/);
  }
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1] ?? '';
  const asset = await fetch(`${base}${script}`);
  expect([asset.status, asset.headers.get('content-type')?.toLowerCase()]).toEqual([200, 'text/javascript; charset=utf-8']);
  expect(asset.headers.get('cache-control')).toMatch(/immutable/);

  const missing = await html('/assets/nope.js');
  expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json; charset=utf-8']);
  const unknownApi = await html('/v1/nope');
  expect([unknownApi.status, unknownApi.headers.get('content-type')]).toEqual([404, 'application/problem+json; charset=utf-8']);
  expect(((await (await html('/v1/pools')).json()) as { items: unknown[] }).items).toEqual([]);
  expect(await (await html('/healthz')).json()).toEqual({ status: 'ok' });
  expect((await html('/readyz')).headers.get('content-type')).toMatch(/^application\/json/);
  expect((await html('/metrics')).headers.get('content-type')).toMatch(/^text\/plain/);
  expect((await html('/openapi.json')).headers.get('content-type')).toMatch(/^application\/json/);
  expect(await (await html('/docs')).text()).toMatch(/swagger/i);
}, 30_000);

test('the OpenAPI document describes GET /v1/loadbalancers and the event stream', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
  };
  const list = doc.paths['/v1/loadbalancers'].get;
  expect(list.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['query:continue', 'query:limit', 'query:namespace', 'query:pool']);
  expect(JSON.stringify(list.responses['200'].content?.['application/json']?.schema)).toContain('#/components/schemas/LoadBalancerView');
  const events = doc.paths['/v1/events'].get;
  expect(events.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['header:Last-Event-ID', 'query:since']);
  expect(Object.keys(events.responses['200'].content ?? {})).toEqual(['text/event-stream']);
  expect(events.responses['400'].content?.['application/problem+json']).toBeDefined();
}, 30_000);

test('GET /v1/loadbalancers lists who holds an address, filtered by namespace and pool, in pages, with since', async () => {
  try {
    await createPool(base, 'list-a', '10.110.0.0/24', { namespace: 'ns-a' });
    await createPool(base, 'list-b', '10.111.0.0/24', { namespace: 'ns-b' });
    for (const lb of ['ns-a/one', 'ns-a/two', 'ns-b/three']) expect((await apiCall(base, 'PUT', `/v1/loadbalancers/${lb}`, {})).status).toBe(200);
    type Page = { items: { loadBalancer: string; ip: string; ipPool: string; since: { seq: number; time: string } | null }[]; continue?: string };
    const all = await waitFor('every allocation read by the audit', async () => {
      const r = (await apiCall<Page>(base, 'GET', '/v1/loadbalancers')).body;
      return r.items.every((i) => i.since !== null) ? r : null;
    });
    expect(all.items.map((i) => [i.loadBalancer, i.ip, i.ipPool])).toEqual([
      ['ns-a/one', '10.110.0.2', 'list-a'],
      ['ns-a/two', '10.110.0.3', 'list-a'],
      ['ns-b/three', '10.111.0.2', 'list-b'],
    ]);
    const audit = (await apiCall<{ holders: { from: { seq: number; time: string } }[] }>(base, 'GET', '/v1/audit/addresses/10.110.0.2')).body;
    expect(all.items[0].since).toEqual({ seq: audit.holders[0].from.seq, time: audit.holders[0].from.time });
    expect((await apiCall<Page>(base, 'GET', '/v1/loadbalancers?namespace=ns-b')).body.items.map((i) => i.loadBalancer)).toEqual(['ns-b/three']);
    expect((await apiCall<Page>(base, 'GET', '/v1/loadbalancers?pool=list-a')).body.items.map((i) => i.loadBalancer)).toEqual(['ns-a/one', 'ns-a/two']);
    const first = (await apiCall<Page>(base, 'GET', '/v1/loadbalancers?limit=2')).body;
    expect(first.items.map((i) => i.loadBalancer)).toEqual(['ns-a/one', 'ns-a/two']);
    const rest = (await apiCall<Page>(base, 'GET', `/v1/loadbalancers?limit=2&continue=${first.continue}`)).body;
    expect([rest.items.map((i) => i.loadBalancer), rest.continue]).toEqual([['ns-b/three'], undefined]);
    expect((await apiCall(base, 'GET', '/v1/loadbalancers?limit=0')).status).toBe(400);
  } finally {
    await removePools(base, 'list-a', 'list-b');
  }
}, 30_000);

interface Sse {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads server-sent events from GET /v1/events until `count` arrived; the answer's first bytes resolve `opened`. */
function follow(query: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const events: Sse[] = [];
  let text = '';
  const opened = fetch(`${base}/v1/events${query}`, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal }).then(
    (res) => {
      void (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            text += decoder.decode(chunk, { stream: true });
            let end: number;
            while ((end = text.indexOf('\n\n')) >= 0) {
              const block = text.slice(0, end);
              text = text.slice(end + 2);
              const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
              if (field('id') !== undefined) events.push({ id: Number(field('id')), event: field('event') ?? '', data: JSON.parse(field('data') ?? '{}') });
            }
          }
        } catch {
          // aborted
        }
      })();
      return res;
    },
  );
  return { opened, events, stop: () => controller.abort() };
}

test('GET /v1/events follows the outcomes as they are stored, and resumes after ?since= or Last-Event-ID', async () => {
  const streams: { stop(): void }[] = [];
  try {
    const live = follow('');
    streams.push(live);
    const res = await live.opened;
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);

    await createPool(base, 'sse-pool', '10.120.0.0/24', { namespace: 'ns-sse' });
    const allocated = (await apiCall<{ ip: string; causationSeq: number }>(base, 'PUT', '/v1/loadbalancers/ns-sse/web', {})).body;
    await apiCall(base, 'DELETE', '/v1/loadbalancers/ns-sse/web');
    await waitFor('three outcomes', () => live.events.length >= 3);
    expect(live.events.map((e) => [e.event, e.data.name ?? e.data.loadBalancer])).toEqual([
      ['ipam.pool.accepted', 'sse-pool'],
      ['ipam.ip.allocated', 'ns-sse/web'],
      ['ipam.ip.released', 'ns-sse/web'],
    ]);
    expect(live.events[1].data).toMatchObject({ ip: allocated.ip, ipPool: 'sse-pool', causationSeq: allocated.causationSeq });
    const [accepted, ipAllocated, released] = live.events;
    expect(accepted.id < ipAllocated.id && ipAllocated.id < released.id).toBe(true);
    expect(ipAllocated.id).toBeGreaterThan(allocated.causationSeq); // the outcome's own sequence, after its input

    // resuming: what was stored after the id first, then what comes
    const resumed = follow(`?since=${accepted.id}`);
    const byHeader = follow('', { 'Last-Event-ID': String(ipAllocated.id) });
    streams.push(resumed, byHeader);
    await Promise.all([resumed.opened, byHeader.opened]);
    await apiCall(base, 'PUT', '/v1/loadbalancers/ns-sse/api', {});
    await waitFor('the replay and the new one', () => resumed.events.length >= 3 && byHeader.events.length >= 2);
    const next = live.events[3];
    expect(resumed.events.map((e) => e.id)).toEqual([ipAllocated.id, released.id, next.id]);
    expect(byHeader.events.map((e) => e.id)).toEqual([released.id, next.id]);
    expect(next.data).toMatchObject({ loadBalancer: 'ns-sse/api' });

    const bad = await fetch(`${base}/v1/events?since=yesterday`);
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'BadRequest']);
  } finally {
    for (const s of streams) s.stop();
    await removePools(base, 'sse-pool');
  }
}, 30_000);
