/**
 * Optional HTTPS: with HTTP_TLS_CERT and HTTP_TLS_KEY the API (and the console) is served over TLS with
 * that certificate, the same answers as over HTTP; plain HTTP on that port gets nothing useful. The
 * certificate is made here with openssl, for 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';

let dir: string;
let nats: TestNats;
let service: IpamService | undefined;
let cert = '';

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-https-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = execFileSync('cat', [join(dir, 'cert.pem')]).toString();
  nats = await startTestNats();
  service = await startTestService(nats.url, {
    IPAM_STREAM: 'IPAM_HTTPS',
    IPAM_INSTANCE_ID: 'https-1',
    HTTP_TLS_CERT: join(dir, 'cert.pem'),
    HTTP_TLS_KEY: join(dir, 'key.pem'),
  });
  await waitUntilLive(service);
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS', () => {
  it('serves the API over TLS with the configured certificate', async () => {
    expect(service?.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(`${service?.httpUrl}/healthz`, cert);
    expect(health).toEqual({ status: 200, body: JSON.stringify({ status: 'ok' }) });
    const pools = await get(`${service?.httpUrl}/v1/pools`, cert);
    expect(pools.status).toBe(200);
    expect(JSON.parse(pools.body)).toMatchObject({ items: [] });
  });

  it('a client that does not trust the certificate is refused by its own TLS check', async () => {
    await expect(get(`${service?.httpUrl}/healthz`, '')).rejects.toThrow();
  });

  it('takes the certificate and the key together, and only files it can read', () => {
    const base = { NATS_URL: 'nats://127.0.0.1:4222' };
    expect(() => loadConfig({ ...base, HTTP_TLS_CERT: join(dir, 'cert.pem') })).toThrow(/go together/);
    expect(() =>
      loadConfig({ ...base, HTTP_TLS_CERT: join(dir, 'cert.pem'), HTTP_TLS_KEY: join(dir, 'nope.pem') }),
    ).toThrow(ConfigError);
  });
});
