/**
 * Credentials written in NATS_URL (`nats://user:pass@host:port`) work as in other NATS clients, and no
 * log line, error message or CLI output shows them: the service (its startup, reconnect and config
 * error lines), the CLI (--server, $NATS_URL, connection errors) and `npm start` (scripts/start.mjs),
 * against a real nats-server that requires a user and password.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import { startNatsServer, type NatsServerHandle } from '../../libs/jetstream/src/nats-server.launcher.js';
import { captureIo, lines } from '../cli/support.js';
import { run } from '../../apps/cli/src/main.js';
import {
  REPO_ROOT,
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { waitFor } from '../support/stream-audit.js';

const USER = 'ipam';
/** an "@" in it: written %40 in a URL, as in any URL */
const PASSWORD = 'Zq7-s3cr3t@pw';
const ENCODED = encodeURIComponent(PASSWORD);
const WRONG = 'Wr0ng-guess-91';

/** Fails when `text` carries the password (as written or URL-encoded) or the wrong guess. */
function expectNoSecret(text: string): void {
  for (const secret of [PASSWORD, ENCODED, WRONG, 's3cr3t']) expect(text).not.toContain(secret);
}

let dir: string;
let server: NatsServerHandle;
let port: number;
let goodUrl: string;
let shownUrl: string;
const STREAM = 'IPAM_CREDS';

async function startServer(): Promise<NatsServerHandle> {
  return startNatsServer({
    port,
    storeDir: join(dir, 'store'),
    extraArgs: ['--user', USER, '--pass', PASSWORD],
  });
}

async function ipam(argv: string[], env: Record<string, string> = {}) {
  const c = captureIo({ env });
  const code = await run([...argv, '--stream', STREAM, '--timeout', '5'], c.io);
  return { code, out: c.out(), err: c.err() };
}

beforeAll(async () => {
  requireBuiltService();
  dir = mkdtempSync(join(tmpdir(), 'ipam-creds-'));
  port = 0;
  server = await startServer();
  port = server.port;
  goodUrl = `nats://${USER}:${ENCODED}@127.0.0.1:${port}`;
  shownUrl = `nats://${USER}:***@127.0.0.1:${port}`;
}, 30_000);

afterAll(async () => {
  await stopAllServices();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration errors', () => {
  it('name the problem without the password: a bad NATS_URL, credentials given twice, two different credentials', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    const bad = problems({ NATS_URL: `nats://${USER}:${PASSWORD}@no such host:4222` });
    expect(bad).toContain(`nats://${USER}:***@no such host:4222`);
    expectNoSecret(bad);
    const both = problems({ NATS_URL: goodUrl, NATS_USER: 'other', NATS_PASSWORD: WRONG });
    expect(both).toMatch(/NATS_URL carries credentials and NATS_USER is set too/);
    expectNoSecret(both);
    const two = problems({ NATS_URL: `${goodUrl},nats://${USER}:${WRONG}@127.0.0.1:1` });
    expect(two).toContain(`${shownUrl},${`nats://${USER}:***@127.0.0.1:1`}`);
    expectNoSecret(two);
  });

  it('the built service exits 2 and its message shows no password', async () => {
    const p = spawnService(testServiceEnv(`nats://${USER}:${PASSWORD}@no such host:4222`));
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toContain('NATS_URL must be');
    expectNoSecret(p.stderr() + p.stdout());
  });
});

describe('the service and the CLI with nats://user:pass@host:port', () => {
  let service: ServiceProcess;

  it('the CLI says no service answers, naming the server without its password', async () => {
    const r = await ipam(['get', 'pools', '--server', goodUrl]);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      `error: no IPAM service answers ipam.query.pools on ${shownUrl}; is the service running?`,
    ]);
  });

  it('the service connects, its log shows the URL redacted; the CLI applies, requests and lists', async () => {
    service = spawnService(testServiceEnv(goodUrl, { IPAM_STREAM: STREAM, LOG_LEVEL: 'info' }));
    await service.httpUrl(15_000);
    const connecting = service
      .stdout()
      .split('\n')
      .find((l) => l.includes('connecting to NATS'));
    expect(JSON.parse(connecting ?? '{}')).toMatchObject({ servers: [shownUrl] });

    const pool = join(dir, 'pool.yaml');
    writeFileSync(
      pool,
      'apiVersion: networking.harvesterhci.io/v1beta1\nkind: IPPool\nmetadata:\n  name: creds-pool\nspec:\n  ranges:\n  - subnet: 10.77.0.0/24\n  selector:\n    scope:\n      namespace: default\n',
    );
    const applied = await waitFor('the service to decide', async () => {
      const r = await ipam(['apply', '-f', pool, '--server', goodUrl]);
      return r.code === 0 ? r : null;
    });
    expect(applied.out).toBe('ippool/creds-pool created\n');
    // $NATS_URL as the default server, credentials in it
    const requested = await ipam(['request', 'lb', 'default/creds-lb'], { NATS_URL: goodUrl });
    expect(requested.err).toBe('');
    expect(requested.code).toBe(0);
    expect(requested.out).toMatch(/default\/creds-lb\s+creds-pool\s+10\.77\.0\.\d+/);
    const listed = await ipam(['get', 'pools', '--server', goodUrl]);
    expect(listed.out).toMatch(/creds-pool .* 1\/\d+/);
    expectNoSecret(applied.out + applied.err + requested.out + listed.out + listed.err);
  }, 30_000);

  it('its reconnect lines, and the warning every 5 s while NATS stays away, show no password either', async () => {
    await server.stop();
    await service.waitForLine('disconnected from NATS', 10_000);
    await service.waitForLine('still reconnecting to NATS at', 15_000);
    server = await startServer();
    await service.waitForLine('reconnected to NATS', 15_000);
    expectNoSecret(service.stdout() + service.stderr());
  }, 40_000);

  it('a wrong password: the CLI fails with the URL redacted, the service stops without showing it', async () => {
    const wrongUrl = `nats://${USER}:${WRONG}@127.0.0.1:${port}`;
    const r = await ipam(['get', 'pools', '--server', wrongUrl]);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: cannot connect to NATS at nats://${USER}:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*Authorization`,
          'i',
        ),
      ),
    ]);
    expectNoSecret(r.out + r.err);

    const wrong = spawnService(testServiceEnv(wrongUrl, { IPAM_STREAM: STREAM, LOG_LEVEL: 'debug' }));
    const exit = await wrong.exited;
    expect(exit.code).not.toBe(0);
    expect(wrong.stdout()).toContain(`nats://${USER}:***@127.0.0.1:${port}`);
    expectNoSecret(wrong.stdout() + wrong.stderr());
    // the running service's whole log, from start to here
    expectNoSecret(service.stdout() + service.stderr());
  }, 30_000);
});

describe('npm start (scripts/start.mjs) with NATS_URL carrying credentials', () => {
  it('says where it connects with the password as ***, and runs the service', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        ...testServiceEnv(goodUrl, {
          IPAM_STREAM: STREAM,
          LOG_LEVEL: 'info',
          IPAM_INSTANCE_ID: 'creds-start',
        }),
        IPAM_START_NO_BUILD: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('the service started by npm start', () => out.includes('ipam service started'), {
        timeoutMs: 20_000,
      });
      expect(err).toContain(`ipam start: connecting to NATS_URL=${shownUrl}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expectNoSecret(out + err);
  }, 40_000);
});
