/**
 * HTTP authentication and roles, end to end: a real nats-server, the service in-process with a tokens
 * file and an OIDC issuer (a JWKS served on loopback by the test, JWTs signed with its key).
 *
 *   no token, an unknown token, a malformed header      401 Unauthorized (WWW-Authenticate: Bearer)
 *   viewer                                              every GET; 403 Forbidden for any write
 *   operator                                            also PUT/DELETE /v1/loadbalancers/...
 *   admin                                               also pools and force-release
 *   /healthz, /readyz                                   always open; /metrics and /docs when IPAM_HTTP_PUBLIC says so
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { ConfigError, loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { DOC_EXAMPLE_4 } from './doc-examples.js';

const TOKENS = { viewer: 'view-secret-1', operator: 'op-secret-2', admin: 'admin-secret-3' } as const;
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

let dir: string;
let nats: TestNats;
let service: IpamService | undefined;
let base = '';
let issuer = '';
let jwksServer: Server;
let signKey: Parameters<SignJWT['sign']>[0];
let jwksRequests = 0;

async function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> | null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

async function jwt(claims: Record<string, unknown>, opts: { aud?: string; exp?: string; iss?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? 'ipam')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(signKey);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-auth-'));
  writeFileSync(
    join(dir, 'tokens.yaml'),
    Object.entries(TOKENS)
      .map(([role, t]) => `- name: ${role}-bot\n  role: ${role}\n  tokenSha256: ${sha256(t)}\n`)
      .join(''),
  );
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  signKey = privateKey;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      jwksRequests++;
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
  nats = await startTestNats();
  service = await startTestService(nats.url, {
    IPAM_STREAM: 'IPAM_AUTH',
    IPAM_INSTANCE_ID: 'auth-1',
    IPAM_HTTP_TOKENS_FILE: join(dir, 'tokens.yaml'),
    IPAM_OIDC_ISSUER: issuer,
    IPAM_OIDC_AUDIENCE: 'ipam',
    IPAM_OIDC_ROLE_CLAIM: 'ipam_role',
  });
  await waitUntilLive(service);
  base = service.httpUrl;
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
  await new Promise((r) => jwksServer?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('without a valid token', () => {
  it.each([
    ['no Authorization header', undefined],
    ['an unknown token', 'not-a-known-token'],
  ])('%s: 401 Unauthorized as a problem, with WWW-Authenticate', async (_what, token) => {
    const r = await call('GET', '/v1/pools', token);
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.json).toMatchObject({ status: 401, code: 'Unauthorized' });
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('a header that is not "Bearer <token>": 401', async () => {
    const r = await fetch(`${base}/v1/pools`, { headers: { authorization: `Basic ${btoa('a:b')}` } });
    expect(r.status).toBe(401);
  });

  it('health probes stay open; metrics and the OpenAPI document do not', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect([200, 503]).toContain((await call('GET', '/readyz')).status);
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/openapi.json')).status).toBe(401);
    expect((await call('GET', '/openapi.json', TOKENS.viewer)).status).toBe(200);
    expect((await call('GET', '/metrics', TOKENS.viewer)).status).toBe(200);
  });
});

describe('roles from the tokens file', () => {
  it('whoami names the token and its role', async () => {
    const r = await call('GET', '/v1/whoami', TOKENS.operator);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ name: 'operator-bot', role: 'operator', via: 'token' });
  });

  it('a viewer reads but may not write: 403 Forbidden naming the role needed', async () => {
    expect((await call('GET', '/v1/pools', TOKENS.viewer)).status).toBe(200);
    const put = await call('PUT', '/v1/pools/global-ip-pool', TOKENS.viewer, DOC_EXAMPLE_4);
    expect(put.status).toBe(403);
    expect(put.json).toMatchObject({ code: 'Forbidden', status: 403 });
    expect(String(put.json?.detail)).toMatch(/needs admin/);
    const lb = await call('PUT', '/v1/loadbalancers/default/viewer-lb', TOKENS.viewer, {});
    expect(lb.status).toBe(403);
    expect(String(lb.json?.detail)).toMatch(/needs operator/);
  });

  it('an operator requests and releases load balancers, but may not write pools or force-release', async () => {
    const admin = await call('PUT', '/v1/pools/global-ip-pool', TOKENS.admin, DOC_EXAMPLE_4);
    expect(admin.status).toBe(201);
    expect((await call('PUT', '/v1/pools/global-ip-pool', TOKENS.operator, DOC_EXAMPLE_4)).status).toBe(403);
    const lb = await call('PUT', '/v1/loadbalancers/team/web', TOKENS.operator, {});
    expect([200, 201]).toContain(lb.status);
    const ip = String(lb.json?.ip);
    expect((await call('POST', `/v1/addresses/${ip}/release`, TOKENS.operator)).status).toBe(403);
    expect((await call('DELETE', '/v1/pools/global-ip-pool', TOKENS.operator)).status).toBe(403);
    expect((await call('DELETE', '/v1/loadbalancers/team/web', TOKENS.operator)).status).toBe(200);
  });

  it('an admin may do everything', async () => {
    const lb = await call('PUT', '/v1/loadbalancers/team/api', TOKENS.admin, {});
    expect([200, 201]).toContain(lb.status);
    const release = await call('POST', `/v1/addresses/${String(lb.json?.ip)}/release`, TOKENS.admin);
    expect(release.status).toBe(200);
  });
});

describe('who did it', () => {
  type Holder = { loadBalancer: string; from: { actor?: string }; to: { actor?: string; forced: boolean } | null };

  async function holdersOf(ip: string, until: (h: Holder[]) => boolean): Promise<Holder[]> {
    for (let i = 0; i < 50; i++) {
      const holders = ((await call('GET', `/v1/audit/addresses/${ip}`, TOKENS.viewer)).json?.holders ?? []) as Holder[];
      if (until(holders)) return holders;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the audit of ${ip} never showed what was expected`);
  }

  it('an input written over HTTP names its caller; the outcome and the address timeline repeat it', async () => {
    const lb = await call('PUT', '/v1/loadbalancers/team/audited', TOKENS.operator, {});
    expect([200, 201]).toContain(lb.status);
    expect(lb.json?.actor).toBe('operator-bot');
    const ip = String(lb.json?.ip);
    const release = await call('POST', `/v1/addresses/${ip}/release`, TOKENS.admin);
    expect(release.json).toMatchObject({ actor: 'admin-bot', forced: true });
    const holders = await holdersOf(ip, (hs) => hs.some((h) => h.loadBalancer === 'team/audited' && h.to !== null));
    const held = holders.find((h) => h.loadBalancer === 'team/audited');
    // "who released it?" has an answer
    expect(held?.from.actor).toBe('operator-bot');
    expect(held?.to).toMatchObject({ actor: 'admin-bot', forced: true });
  });

  it('the caller cannot write another name: the authenticated one replaces metadata.actor', async () => {
    const lb = await call('PUT', '/v1/loadbalancers/team/claims', TOKENS.operator, {
      metadata: { actor: 'someone-else' },
    });
    expect(lb.json?.actor).toBe('operator-bot');
  });
});

describe('OIDC JWTs verified against the issuer JWKS', () => {
  it('a JWT with a role claim is its subject with that role', async () => {
    const token = await jwt({ sub: 'alice@example.org', ipam_role: 'operator' });
    expect((await call('GET', '/v1/whoami', token)).json).toEqual({
      name: 'alice@example.org',
      role: 'operator',
      via: 'oidc',
    });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it('a list of roles counts its highest known one', async () => {
    const token = await jwt({ sub: 'bob', ipam_role: ['viewer', 'unknown', 'admin'] });
    expect((await call('GET', '/v1/whoami', token)).json).toMatchObject({ name: 'bob', role: 'admin' });
  });

  it.each([
    ['expired', () => jwt({ sub: 'carol', ipam_role: 'admin' }, { exp: '-1m' })],
    ['for another audience', () => jwt({ sub: 'carol', ipam_role: 'admin' }, { aud: 'someone-else' })],
    ['from another issuer', () => jwt({ sub: 'carol', ipam_role: 'admin' }, { iss: 'http://127.0.0.1:1' })],
    ['with a signature that does not verify', async () => (await jwt({ sub: 'carol', ipam_role: 'admin' })).slice(0, -4) + 'AAAA'],
  ])('a JWT %s: 401', async (_what, make) => {
    const r = await call('GET', '/v1/pools', await make());
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ code: 'Unauthorized' });
  });

  it('a valid JWT without a role: 403', async () => {
    const r = await call('GET', '/v1/pools', await jwt({ sub: 'dave' }));
    expect(r.status).toBe(403);
    expect(String(r.json?.detail)).toMatch(/ipam_role/);
  });
});

describe('configuration', () => {
  const base = { NATS_URL: 'nats://127.0.0.1:4222' };

  it('without authentication the API listens on loopback only', () => {
    expect(loadConfig(base).HTTP_HOST).toBe('127.0.0.1');
    expect(loadConfig({ ...base, IPAM_HTTP_TOKENS_FILE: join(dir, 'tokens.yaml') }).HTTP_HOST).toBe('0.0.0.0');
  });

  it('refuses a non-loopback HTTP_HOST without authentication, saying why and how', () => {
    expect(() => loadConfig({ ...base, HTTP_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HTTP_HOST: '0.0.0.0' })).toThrow(/IPAM_HTTP_INSECURE=true/);
    expect(loadConfig({ ...base, HTTP_HOST: '0.0.0.0', IPAM_HTTP_INSECURE: 'true' }).HTTP_HOST).toBe('0.0.0.0');
    expect(loadConfig({ ...base, HTTP_HOST: '127.0.0.2' }).HTTP_HOST).toBe('127.0.0.2');
  });

  it('checks the tokens file at start: each bad entry is named', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '- {name: a, role: root, tokenSha256: abc}\n- {name: b, role: viewer, tokenSha256: xyz}\n');
    expect(() => loadConfig({ ...base, IPAM_HTTP_TOKENS_FILE: bad })).toThrow(/entry 1 \(a\): role must be/);
    expect(() => loadConfig({ ...base, IPAM_HTTP_TOKENS_FILE: bad })).toThrow(/entry 2 \(b\): tokenSha256/);
    expect(() => loadConfig({ ...base, IPAM_HTTP_TOKENS_FILE: join(dir, 'missing.yaml') })).toThrow(/cannot be read/);
    expect(() => loadConfig({ ...base, IPAM_OIDC_ISSUER: issuer })).toThrow(/go together/);
    expect(() => loadConfig({ ...base, IPAM_HTTP_PUBLIC: 'metrics,admin' })).toThrow(/IPAM_HTTP_PUBLIC lists "admin"/);
  });
});
