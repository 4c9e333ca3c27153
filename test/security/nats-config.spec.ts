/**
 * The service's NATS settings for the shipped permissions and TLS (NATS_INBOX_PREFIX, NATS_TLS_CA,
 * NATS_TLS_CERT, NATS_TLS_KEY), validated at start like every other setting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../apps/ipam/src/config/ipam.config.js';

let dir: string;
let pem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-nats-config-'));
  pem = join(dir, 'file.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

it('takes an inbox prefix and TLS files', () => {
  const config = loadConfig({
    NATS_INBOX_PREFIX: '_INBOX_ipam_service',
    NATS_TLS_CA: pem,
    NATS_TLS_CERT: pem,
    NATS_TLS_KEY: pem,
  });
  expect(config).toMatchObject({
    NATS_INBOX_PREFIX: '_INBOX_ipam_service',
    NATS_TLS_CA: pem,
    NATS_TLS_CERT: pem,
    NATS_TLS_KEY: pem,
  });
  expect(loadConfig({ NATS_TLS_CA: pem }).NATS_TLS_CERT).toBeUndefined();
});

it('refuses an inbox prefix that is not a subject prefix', () => {
  for (const bad of ['_INBOX.>', '_INBOX *', 'a..b', '.a']) {
    expect(problems({ NATS_INBOX_PREFIX: bad })).toEqual([
      expect.stringMatching(/^NATS_INBOX_PREFIX must be a subject prefix: .* \(got ".*"\)$/),
    ]);
  }
  expect(problems({ NATS_INBOX_PREFIX: 'tenant-a._INBOX_ops' })).toEqual([]);
});

it('refuses TLS files that cannot be read, and a certificate without its key', () => {
  const missing = join(dir, 'missing.pem');
  expect(problems({ NATS_TLS_CA: missing })).toEqual([
    `NATS_TLS_CA names a file that cannot be read (ENOENT): ${missing}`,
  ]);
  expect(problems({ NATS_TLS_CERT: pem })).toEqual([
    'NATS_TLS_CERT and NATS_TLS_KEY go together: set both (a client certificate and its key) or neither',
  ]);
  expect(problems({ NATS_TLS_KEY: missing })).toEqual([
    `NATS_TLS_KEY names a file that cannot be read (ENOENT): ${missing}`,
    'NATS_TLS_CERT and NATS_TLS_KEY go together: set both (a client certificate and its key) or neither',
  ]);
});
