/**
 * The HTTP edge, over a real nats-server and the service in-process (IPAM_MAX_BODY_BYTES is 4096 here):
 *
 *   - every error is an RFC 9457 problem (application/problem+json: type, title, status, detail, code),
 *     unknown routes, body-parser errors and internal failures included;
 *   - a body over the input limit is 413 PayloadTooLarge, and one nested deeper than 64 levels is 400
 *     InvalidEvent (JSON or YAML, never a 500), with nothing published;
 *   - lists answer in pages: ?limit=N gives at most N items and a top-level `continue` token while more
 *     remain, ?continue=<token> the next page; a bad limit or token is 400.
 *
 * Every answer is also checked against the served OpenAPI document (test/support/openapi-responses.ts).
 */
import type { ArgumentsHost } from '@nestjs/common';
import { pino } from 'pino';
import { ProblemFilter } from '../../apps/ipam/src/http/problem.filter.js';
import { httpFixture, problem, type HttpFixture, type HttpReply as Reply } from '../support/http-fixture.js';

const STREAM = 'IPAM_HTTP_LIMITS';
const LIMIT = 4096;

let f: HttpFixture;
let http: HttpFixture['http'];

type Json = Record<string, unknown>;

/** Runs `fn` and checks that it stored nothing in the stream. */
async function publishesNothing(fn: () => Promise<void>): Promise<void> {
  const before = await f.audit.lastSeq();
  await fn();
  expect(await f.audit.lastSeq()).toBe(before);
}

function nestedArrays(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const pool = (name: string, subnet: string) => ({
  metadata: { name },
  spec: { ranges: [{ subnet }], selector: { scope: { namespace: name } } },
});

beforeAll(async () => {
  f = await httpFixture(STREAM, 'http-limits', { env: { IPAM_MAX_BODY_BYTES: String(LIMIT) } });
  ({ http } = f);
}, 30_000);

afterAll(() => f?.stop(), 30_000);

describe('every error is an RFC 9457 problem', () => {
  it.each([
    ['an unknown path under /v1', 'GET', '/v1/nothing/here'],
    ['a method the path does not take', 'DELETE', '/v1/pools'],
    ['a path under /v1 that is no resource', 'GET', '/v1/pools/a/b'],
  ])('%s: 404 NotFound', async (_what, method, path) => {
    const r = await http(method, path);
    expect(r.status).toBe(404);
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body).toEqual(problem(404, 'NotFound', `no route answers ${method} ${path}`));
  });

  it('malformed JSON: 400 BadRequest from the body parser, nothing published', async () => {
    await publishesNothing(async () => {
      const r = await http('PUT', '/v1/pools/p', { body: '{"spec": [', type: 'application/json' });
      expect(r.status).toBe(400);
      expect(r.contentType).toMatch(/^application\/problem\+json/);
      expect(r.body).toEqual(
        problem(400, 'BadRequest', expect.stringMatching(/^the body is not valid JSON/)),
      );
    });
  });

  it('a charset other than UTF-8: 415 UnsupportedMediaType', async () => {
    await publishesNothing(async () => {
      const r = await http('PUT', '/v1/pools/p', { body: '{}', type: 'application/json; charset=latin1' });
      expect(r.status).toBe(415);
      expect(r.body).toEqual(problem(415, 'UnsupportedMediaType', expect.stringContaining('LATIN1')));
    });
  });

  it('a failure inside the service: 500 InternalError, logged, its detail revealing nothing', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const sent: { status?: number; type?: string; body?: string } = {};
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      type(t: string) {
        sent.type = t;
        return this;
      },
      send(body: string) {
        sent.body = body;
        return this;
      },
    };
    const host = {
      getType: () => 'http',
      switchToHttp: () => ({
        getResponse: () => res,
        getRequest: () => ({ method: 'GET', path: '/v1/pools' }),
      }),
    } as unknown as ArgumentsHost;
    new ProblemFilter(logger).catch(new Error('the secret internals broke'), host);
    expect(sent.status).toBe(500);
    expect(sent.type).toBe('application/problem+json');
    const body = JSON.parse(sent.body ?? '') as Json;
    expect(body).toEqual(problem(500, 'InternalError'));
    expect(String(body.detail)).not.toContain('secret');
    expect(lines.join('')).toContain('the secret internals broke');
  });
});

describe('bodies are capped at the input limit', () => {
  it(`a body over IPAM_MAX_BODY_BYTES (${LIMIT} here): 413 PayloadTooLarge, JSON and YAML alike, nothing published`, async () => {
    const big = JSON.stringify({ ...pool('big', '10.70.0.0/24'), pad: 'x'.repeat(LIMIT) });
    await publishesNothing(async () => {
      for (const type of ['application/json', 'application/yaml']) {
        const r = await http('PUT', '/v1/pools/big', { body: big, type });
        expect([type, r.status]).toEqual([type, 413]);
        expect(r.body).toEqual(
          problem(413, 'PayloadTooLarge', `the body is larger than the limit of ${LIMIT} bytes`),
        );
      }
    });
  });

  it('YAML under the limit that is over it as the JSON input it becomes: 413, nothing published', async () => {
    // every " of a plain YAML scalar is \" in JSON
    const yaml = `metadata:\n  name: grows\nspec:\n  description: x${'"'.repeat(3000)}\n  ranges:\n    - subnet: 10.71.0.0/24\n`;
    expect(yaml.length).toBeLessThan(LIMIT);
    await publishesNothing(async () => {
      const r = await http('PUT', '/v1/pools/grows', { body: yaml, type: 'application/yaml' });
      expect(r.status).toBe(413);
      expect(r.body).toEqual(
        problem(
          413,
          'PayloadTooLarge',
          expect.stringMatching(new RegExp(`more than the limit of ${LIMIT} bytes`)),
        ),
      );
    });
  });
});

describe('a body nested deeper than 64 levels: 400 InvalidEvent before any validation, never a 500', () => {
  const tooDeep = problem(400, 'InvalidEvent', 'the body nests objects or arrays deeper than 64 levels');

  it.each([
    ['1,500 nested arrays in a field (a 3 KB body)', 1500],
    ['65 levels in all', 64],
  ])('JSON, %s', async (_what, levels) => {
    await publishesNothing(async () => {
      // body (1) > extra (2 ..)
      const body = { extra: nestedArrays(levels) };
      const r = await http('PUT', '/v1/loadbalancers/deep/lb', { json: body });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(tooDeep);
    });
  });

  it.each([
    ['1,500 nested flow sequences', 1500],
    ['65 levels in all', 63],
  ])('YAML, %s', async (_what, levels) => {
    // body (1) > spec (2) > ranges (3 ..)
    const yaml = `metadata:\n  name: deep\nspec:\n  ranges: ${'['.repeat(levels)}1${']'.repeat(levels)}\n`;
    await publishesNothing(async () => {
      const r = await http('PUT', '/v1/pools/deep', { body: yaml, type: 'application/yaml' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual(tooDeep);
    });
  });

  it('exactly 64 levels is read as usual (an unknown field; here no pool matches: 422 NoMatchingPool)', async () => {
    // body (1) > extra (2 .. 64)
    const r = await http('PUT', '/v1/loadbalancers/deep/at-limit', { json: { extra: nestedArrays(63) } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ status: 422, code: 'NoMatchingPool', loadBalancer: 'deep/at-limit' });
  });
});

describe('GET /v1/pools in pages: ?limit= and continue', () => {
  const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
  const listed = (r: Reply<{ items: Array<{ metadata: { name: string } }> }>) =>
    r.body.items.map((p) => p.metadata.name);

  beforeAll(async () => {
    for (const [i, name] of names.entries()) {
      const r = await http('PUT', `/v1/pools/${name}`, { json: pool(name, `10.80.${i}.0/24`) });
      if (r.status !== 201) throw new Error(`PUT ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }, 30_000);

  afterAll(async () => {
    for (const name of names) await http('DELETE', `/v1/pools/${name}`);
  }, 30_000);

  it('without a limit: every pool, no continue', async () => {
    const r = await http<{ items: Array<{ metadata: { name: string } }>; continue?: string }>(
      'GET',
      '/v1/pools',
    );
    expect(r.status).toBe(200);
    expect(listed(r)).toEqual(names);
    expect(r.body.continue).toBeUndefined();
  });

  it('?limit=2: pages of two, a continue token while more remain, none on the last page', async () => {
    type Page = { items: Array<{ metadata: { name: string } }>; continue?: string };
    const first = await http<Page>('GET', '/v1/pools?limit=2');
    expect(first.status).toBe(200);
    expect(listed(first)).toEqual(['page-a', 'page-b']);
    expect(first.body.continue).toEqual(expect.any(String));
    const second = await http<Page>('GET', `/v1/pools?limit=2&continue=${first.body.continue ?? ''}`);
    expect(listed(second)).toEqual(['page-c', 'page-d']);
    expect(second.body.continue).toEqual(expect.any(String));
    const last = await http<Page>('GET', `/v1/pools?limit=2&continue=${second.body.continue ?? ''}`);
    expect(listed(last)).toEqual(['page-e']);
    expect(last.body).not.toHaveProperty('continue');
    // a limit that takes the rest exactly: no continue either
    expect((await http<Page>('GET', `/v1/pools?limit=5`)).body).not.toHaveProperty('continue');
  });

  it('a pool deleted between two pages: the next page still starts after the last one answered', async () => {
    type Page = { items: Array<{ metadata: { name: string } }>; continue?: string };
    const extra = 'page-bb';
    expect((await http('PUT', `/v1/pools/${extra}`, { json: pool(extra, '10.81.0.0/24') })).status).toBe(201);
    const first = await http<Page>('GET', '/v1/pools?limit=2');
    expect(listed(first)).toEqual(['page-a', 'page-b']);
    expect((await http('DELETE', '/v1/pools/page-b')).status).toBe(200);
    const next = await http<Page>('GET', `/v1/pools?limit=2&continue=${first.body.continue ?? ''}`);
    expect(listed(next)).toEqual(['page-bb', 'page-c']);
    expect((await http('DELETE', `/v1/pools/${extra}`)).status).toBe(200);
    expect((await http('PUT', '/v1/pools/page-b', { json: pool('page-b', '10.80.1.0/24') })).status).toBe(
      201,
    );
  });

  it.each([
    ['limit=0', '?limit=0', /limit must be a whole number from 1 to 1000/],
    ['limit=1001', '?limit=1001', /limit must be a whole number from 1 to 1000/],
    ['limit=abc', '?limit=abc', /limit must be a whole number from 1 to 1000/],
    ['limit=1.5', '?limit=1.5', /limit must be a whole number from 1 to 1000/],
    ['a token that is not one', '?limit=2&continue=not-a-token', /continue is not a token this list gave/],
    [
      'a token of another list',
      `?limit=2&continue=${Buffer.from(JSON.stringify({ l: 'address 10.0.0.1', o: 1 })).toString('base64url')}`,
      /continue is not a token this list gave/,
    ],
    ['an empty token', '?limit=2&continue=', /continue must be one token/],
  ])('%s: 400 BadRequest', async (_what, query, detail) => {
    const r = await http('GET', `/v1/pools${query}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(problem(400, 'BadRequest', expect.stringMatching(detail)));
  });
});

describe('audit timelines in pages', () => {
  // load balancer tl/x requests and releases its address three times: three entries (held, from .. to),
  // and 10.90.0.2 three holders
  beforeAll(async () => {
    expect((await http('PUT', '/v1/pools/tl', { json: pool('tl', '10.90.0.0/24') })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await http('PUT', '/v1/loadbalancers/tl/x')).status).toBe(200);
      expect((await http('DELETE', '/v1/loadbalancers/tl/x')).status).toBe(200);
    }
  }, 30_000);

  afterAll(async () => {
    await http('DELETE', '/v1/pools/tl');
  });

  it('/v1/audit/loadbalancers/{namespace}/{name}?limit=2: every entry once, in order, across pages; total counts them all', async () => {
    type Page = { loadBalancer: string; total: number; entries: Array<{ kind: string }>; continue?: string };
    const all = await http<Page>('GET', '/v1/audit/loadbalancers/tl/x');
    expect(all.body.total).toBe(3);
    expect(all.body.entries).toHaveLength(3);
    const first = await http<Page>('GET', '/v1/audit/loadbalancers/tl/x?limit=2');
    expect(first.body).toEqual({
      loadBalancer: 'tl/x',
      total: 3,
      entries: all.body.entries.slice(0, 2),
      continue: expect.any(String),
    });
    const rest = await http<Page>(
      'GET',
      `/v1/audit/loadbalancers/tl/x?limit=2&continue=${first.body.continue ?? ''}`,
    );
    expect(rest.body).toEqual({ loadBalancer: 'tl/x', total: 3, entries: all.body.entries.slice(2) });
    // another load balancer's token is refused
    const other = await http(
      'GET',
      `/v1/audit/loadbalancers/tl/y?limit=2&continue=${first.body.continue ?? ''}`,
    );
    expect(other.status).toBe(400);
    expect(other.body).toEqual(problem(400, 'BadRequest', expect.stringMatching(/continue is not a token/)));
  });

  it('/v1/audit/addresses/{ip}?limit=1: one holder a page', async () => {
    type Page = { ip: string; total: number; holders: unknown[]; continue?: string };
    const all = await http<Page>('GET', '/v1/audit/addresses/10.90.0.2');
    expect(all.body.total).toBe(3);
    const seen: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await http<Page>(
        'GET',
        `/v1/audit/addresses/10.90.0.2?limit=1${token !== undefined ? `&continue=${token}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(3);
      expect(r.body.holders).toHaveLength(1);
      seen.push(...r.body.holders);
      token = r.body.continue;
      pages++;
    } while (token !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.body.holders);
  });
});

describe('field warnings', () => {
  it("PUT /v1/pools/{name}: the dropped unknown fields in a top-level warnings array, as the document's AppliedPool says", async () => {
    const body = {
      metadata: { name: 'warned' },
      spec: {
        ranges: [{ type: 'cidr', subnet: '10.95.0.0/24' }],
        selector: { scope: { namespace: 'warned' } },
      },
    };
    const r = await http<{ warnings?: string[] }>('PUT', '/v1/pools/warned', { json: body });
    expect(r.status).toBe(201);
    expect(r.body.warnings).toEqual([expect.stringContaining('spec.ranges[0].type')]);
    expect((await http('DELETE', '/v1/pools/warned')).status).toBe(200);
  });
});

describe('the response check itself', () => {
  it('refuses a status the document does not give the operation, and a body that is not its schema', () => {
    const check =
      (a: { method: string; url: string; status: number; contentType: string; body: unknown }) => () =>
        f.checker.check(a);
    expect(
      check({
        method: 'GET',
        url: '/v1/pools',
        status: 404,
        contentType: 'application/problem+json',
        body: {},
      }),
    ).toThrow(/status 404 is not documented/);
    expect(
      check({
        method: 'GET',
        url: '/v1/pools',
        status: 200,
        contentType: 'application/json',
        body: { items: [1] },
      }),
    ).toThrow(/does not match its documented schema/);
    expect(
      check({
        method: 'GET',
        url: '/v1/pools/x',
        status: 404,
        contentType: 'application/json',
        body: { code: 'UnknownPool' },
      }),
    ).toThrow(/application\/json is not documented/);
    expect(
      check({
        method: 'GET',
        url: '/v1/pools',
        status: 200,
        contentType: 'application/json',
        body: { items: [] },
      }),
    ).not.toThrow();
  });
});
