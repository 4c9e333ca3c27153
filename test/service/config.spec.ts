/**
 * Configuration validation: loadConfig reports every bad value (ConfigError lists each problem), and the
 * built service exits with code 2 and a clear message on stderr before connecting to anything.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import { freePort } from '../../libs/jetstream/src/nats-server.launcher.js';
import { requireBuiltService, spawnService, stopAllServices } from '../support/ipam-service.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ipam-config-test-'));
});

afterAll(async () => {
  await stopAllServices();
  rmSync(tmp, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      NATS_URL: 'nats://127.0.0.1:4222',
      IPAM_STREAM: 'IPAM',
      IPAM_STREAM_REPLICAS: 1,
      IPAM_LEASE_TTL_MS: 2_500,
      IPAM_SNAPSHOT_BUCKET: 'ipam-snapshots',
      IPAM_SNAPSHOT_EVERY_EVENTS: 50_000,
      IPAM_SNAPSHOT_KEEP: 3,
      IPAM_MAX_BODY_BYTES: 65_536,
      HTTP_PORT: 8080,
      LOG_LEVEL: 'info',
    });
  });

  it('reads good values, numbers as numbers', () => {
    const creds = join(tmp, 'user.creds');
    writeFileSync(creds, 'not checked here');
    const c = loadConfig({
      NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
      IPAM_STREAM: 'IPAM_X',
      IPAM_STREAM_REPLICAS: '3',
      IPAM_MAX_BODY_BYTES: '1024',
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      NATS_CREDS: creds,
    });
    expect(c).toMatchObject({
      IPAM_STREAM_REPLICAS: 3,
      IPAM_MAX_BODY_BYTES: 1024,
      HTTP_PORT: 0,
      NATS_CREDS: creds,
    });
  });

  it.each([
    ['IPAM_STREAM_REPLICAS=x', { IPAM_STREAM_REPLICAS: 'x' }, /IPAM_STREAM_REPLICAS.*"x"/],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of .*"loud"/],
    ['HTTP_PORT=70000', { HTTP_PORT: '70000' }, /HTTP_PORT.*65535.*"70000"/],
    [
      'NATS_PASSWORD without NATS_USER',
      { NATS_PASSWORD: 'secret' },
      /NATS_PASSWORD is set without NATS_USER/,
    ],
    [
      'NATS_CREDS naming a missing file',
      { NATS_CREDS: '/nonexistent/ipam.creds' },
      /NATS_CREDS.*\/nonexistent\/ipam\.creds/,
    ],
    ['IPAM_MAX_BODY_BYTES=10', { IPAM_MAX_BODY_BYTES: '10' }, /IPAM_MAX_BODY_BYTES/],
    ['IPAM_LEASE_TTL_MS=5', { IPAM_LEASE_TTL_MS: '5' }, /IPAM_LEASE_TTL_MS/],
    ['IPAM_STREAM with a dot', { IPAM_STREAM: 'ipam.stream' }, /IPAM_STREAM/],
  ])('%s -> ConfigError naming the problem', (_what, env, message) => {
    // one distinct problem (the same sentence may come from several failed constraints of one variable)
    const problems = [...new Set(problemsOf(env))];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      IPAM_STREAM_REPLICAS: 'x',
      LOG_LEVEL: 'loud',
      HTTP_PORT: '70000',
      NATS_PASSWORD: 'secret',
      NATS_CREDS: '/nonexistent/ipam.creds',
    });
    for (const name of ['IPAM_STREAM_REPLICAS', 'LOG_LEVEL', 'HTTP_PORT', 'NATS_PASSWORD', 'NATS_CREDS']) {
      expect(problems.some((p) => p.includes(name))).toBe(true);
    }
    expect(problems.length).toBeGreaterThanOrEqual(5);
    let message = '';
    try {
      loadConfig({ LOG_LEVEL: 'loud', HTTP_PORT: '70000' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).toMatch(/HTTP_PORT/);
  });
});

describe('the built service with a bad value', () => {
  beforeAll(() => requireBuiltService());

  const badRuns: Array<[string, Record<string, string>, RegExp[]]> = [
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, [/LOG_LEVEL must be one of/, /loud/]],
    [
      'HTTP_PORT=70000 and IPAM_STREAM_REPLICAS=x',
      { HTTP_PORT: '70000', IPAM_STREAM_REPLICAS: 'x' },
      [/HTTP_PORT/, /IPAM_STREAM_REPLICAS/],
    ],
    ['NATS_CREDS naming a missing file', { NATS_CREDS: '/nonexistent/ipam.creds' }, [/NATS_CREDS/]],
    [
      'NATS_PASSWORD without NATS_USER',
      { NATS_PASSWORD: 'secret' },
      [/NATS_PASSWORD is set without NATS_USER/],
    ],
  ];

  it(`exits with code 2 and says why on stderr, without connecting (${badRuns.map((r) => r[0]).join('; ')})`, async () => {
    // nothing listens on this port: a service that tried to connect would wait forever, not exit 2
    const port = await freePort();
    const started = Date.now();
    // all at once (each is a node start-up)
    const results = await Promise.all(
      badRuns.map(async ([what, env, messages]) => {
        const p = spawnService({ NATS_URL: `nats://127.0.0.1:${port}`, HTTP_PORT: '0', ...env });
        const exit = await Promise.race([
          p.exited,
          new Promise<null>((r) => setTimeout(() => r(null), 15_000).unref()),
        ]);
        return { what, exit, stderr: p.stderr(), messages };
      }),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const r of results) {
      expect({ what: r.what, exit: r.exit }).toEqual({ what: r.what, exit: { code: 2, signal: null } });
      expect(r.stderr).toMatch(/invalid configuration/);
      for (const m of r.messages) expect(r.stderr).toMatch(m);
    }
  }, 30_000);
});
