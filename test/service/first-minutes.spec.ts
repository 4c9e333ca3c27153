/**
 * The operator's first minutes, as a new user meets them, on the built service (node
 * dist/apps/ipam/src/main.js) against a real nats-server on loopback:
 *
 * - NATS not there yet: the HTTP port answers at once (/healthz 200; /readyz 503 NotReady "not
 *   connected"; the API 503 Unavailable, nothing published), and a warning every few seconds says where
 *   it tries (credentials as ***) and when it tries next. Once NATS is there, it starts by itself.
 * - One line says where everything is: the API, the console (/), the OpenAPI page and NATS.
 * - Logs are JSON lines when stdout is not a terminal (LOG_FORMAT=pretty forces readable lines), and
 *   Nest's start-up chatter (a line per module and route) is not at info.
 * - The HTTP port in use: one line on stderr, exit code 2, before anything connects to NATS: the lease
 *   bucket is never created.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, startNatsServer, type NatsServerHandle } from '../../libs/jetstream/src/index.js';
import { resolveLogFormat } from '../../apps/ipam/src/logging/logger.js';
import { connectTestClient, startTestNats, type TestNats } from '../support/nats.js';
import {
  REPO_ROOT,
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { waitFor } from '../support/stream-audit.js';

const USER = 'ops';
const PASSWORD = 'n0t-shown-pw';
const CONSOLE_BUILT = existsSync(join(REPO_ROOT, 'dist', 'console', 'index.html'));

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Every stdout line as JSON (a line that is not JSON fails the test: logs are JSON off a terminal). */
function logLines(p: ServiceProcess): LogLine[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

async function httpGet(url: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  } catch {
    return null;
  }
}

let natsServer: NatsServerHandle | null = null;

afterAll(async () => {
  await stopAllServices();
  await natsServer?.stop();
});

describe('NATS not there yet', () => {
  let natsPort: number;
  let httpPort: number;
  let service: ServiceProcess;
  let base: string;
  const shownUrl = () => `nats://${USER}:***@127.0.0.1:${natsPort}`;

  beforeAll(async () => {
    requireBuiltService();
    natsPort = await freePort();
    httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
  });

  it('/healthz answers within moments of the start, while NATS is out of reach', async () => {
    const started = Date.now();
    service = spawnService(
      testServiceEnv(`nats://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${natsPort}`, {
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'info',
        IPAM_STREAM: 'IPAM_FIRST',
      }),
    );
    const health = await waitFor(
      '/healthz to answer',
      async () => {
        if (!service.isRunning()) throw new Error(`the service exited: ${service.stderr()}`);
        const r = await httpGet(`${base}/healthz`);
        return r?.status === 200 ? r : null;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const elapsed = Date.now() - started;
    expect(health.body).toEqual({ status: 'ok' });
    // a node start-up and the configuration; nothing waits for NATS (a loaded machine is slower)
    expect(elapsed).toBeLessThan(5000);
    expect(service.stdout()).not.toContain('connected to NATS');
  }, 20_000);

  it('/readyz is 503 NotReady, not connected; the API is 503 Unavailable', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await ready.json()).toMatchObject({
      status: 503,
      code: 'NotReady',
      detail: `not connected to NATS (connecting to ${shownUrl()})`,
      ready: false,
      connected: false,
    });
    const write = await fetch(`${base}/v1/pools/early`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { ranges: [{ subnet: '10.90.0.0/24' }] } }),
    });
    expect(write.status).toBe(503);
    expect(await write.json()).toMatchObject({ status: 503, code: 'Unavailable' });
    expect((await fetch(`${base}/v1/pools`)).status).toBe(503);
  });

  it('says so every few seconds: a warning with the URL (password as ***) and the next attempt', async () => {
    const warnings = () =>
      logLines(service).filter((l) => l.level === 40 && l.msg.startsWith('NATS is not reachable'));
    await waitFor('three warnings', () => warnings().length >= 3, { timeoutMs: 15_000 });
    const [first, second, third] = warnings();
    expect(first).toMatchObject({
      servers: [shownUrl()],
      attempt: 1,
      retryInMs: expect.any(Number),
      msg: expect.stringContaining(`at ${shownUrl()} (`),
    });
    expect(first.msg).toMatch(/; retrying in \d+ s$/);
    for (const w of [first, second, third]) expect(w.retryInMs as number).toBeLessThanOrEqual(5000);
    expect([second.attempt, third.attempt]).toEqual([2, 3]);
    expect(service.stdout() + service.stderr()).not.toContain(PASSWORD);
  }, 20_000);

  it('starts by itself once NATS is there, and one line says where the API, console, OpenAPI page and NATS are', async () => {
    natsServer = await startNatsServer({ port: natsPort, extraArgs: ['--user', USER, '--pass', PASSWORD] });
    const url = await service.httpUrl(30_000);
    expect(url).toBe(base);
    const started = logLines(service).filter((l) => l.msg.startsWith('ipam service started'));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ level: 30, http: base, stream: 'IPAM_FIRST' });
    expect(started[0].msg).toBe(
      `ipam service started: API ${base}/v1/, console ${CONSOLE_BUILT ? `${base}/` : '(not built)'}, ` +
        `OpenAPI ${base}/docs, NATS ${shownUrl()} (stream IPAM_FIRST)`,
    );
    await waitFor('/readyz 200', async () => (await httpGet(`${base}/readyz`))?.status === 200, {
      timeoutMs: 15_000,
    });
    expect(service.stdout() + service.stderr()).not.toContain(PASSWORD);
  }, 40_000);

  it("logged JSON lines only (stdout is not a terminal), none of Nest's per-module and per-route lines at info", () => {
    const lines = logLines(service);
    expect(lines.length).toBeGreaterThan(5);
    const chatter = lines.filter(
      (l) =>
        l.level >= 30 &&
        ['RouterExplorer', 'RoutesResolver', 'InstanceLoader', 'NestFactory', 'NestApplication'].includes(
          String(l.context),
        ),
    );
    expect(chatter).toEqual([]);
    expect(service.stdout()).not.toMatch(/Mapped \{/);
  });

  afterAll(async () => {
    await service?.terminate().catch(() => undefined);
  });
});

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise; LOG_FORMAT forces either', () => {
    expect(resolveLogFormat(undefined, true)).toBe('pretty');
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat(undefined, undefined)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('LOG_FORMAT=pretty: readable lines (time, level, message), no JSON; a bad LOG_FORMAT exits 2', async () => {
    requireBuiltService();
    const port = await freePort();
    const pretty = spawnService(
      testServiceEnv(`nats://127.0.0.1:${port}`, { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' }),
    );
    await waitFor('a warning', () => /WARN/.test(pretty.stdout()), { timeoutMs: 15_000 });
    await pretty.terminate();
    const lines = pretty
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: HTTP listening on http:\/\/127\.0\.0\.1:\d+ /);
    expect(lines.find((l) => l.includes('WARN'))).toMatch(
      new RegExp(
        `^\\[[\\d:.]+\\] WARN: NATS is not reachable at nats://127\\.0\\.0\\.1:${port} \\(.+\\); retrying in \\d+ s \\{`,
      ),
    );
    for (const l of lines) expect(l.startsWith('{')).toBe(false);

    const bad = spawnService(testServiceEnv(`nats://127.0.0.1:${port}`, { LOG_FORMAT: 'fancy' }));
    expect(await bad.exited).toEqual({ code: 2, signal: null });
    expect(bad.stderr()).toMatch(/LOG_FORMAT must be json or pretty .*"fancy"/);
  }, 30_000);
});

describe('the HTTP port in use', () => {
  let nats: TestNats;
  let holder: Server;
  let port: number;

  beforeAll(async () => {
    requireBuiltService();
    nats = await startTestNats();
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    port = (holder.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((r) => holder?.close(r));
    await nats?.stop();
  });

  it('is one line on stderr and exit code 2, before anything connects to NATS: no lease bucket, no stream', async () => {
    const p = spawnService(
      testServiceEnv(nats.url, { HTTP_PORT: String(port), LOG_LEVEL: 'debug', IPAM_STREAM: 'IPAM_PORT' }),
    );
    const exit = await Promise.race([
      p.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 15_000).unref()),
    ]);
    expect(exit).toEqual({ code: 2, signal: null });
    expect(p.stderr()).toBe(
      `ipam: HTTP port ${port} on 127.0.0.1 is in use; set HTTP_PORT to a free port (0 picks one), or stop what listens there\n`,
    );
    expect(p.stdout()).not.toMatch(/connecting to NATS|connected to NATS|lease/);
    const nc = await connectTestClient(nats.url);
    try {
      const jsm = await jetstreamManager(nc);
      const streams: string[] = [];
      for await (const s of jsm.streams.list()) streams.push(s.config.name);
      // neither the lease bucket (KV_ipam-leader) nor the stream: nothing was touched
      expect(streams).toEqual([]);
    } finally {
      await nc.close();
    }
  }, 30_000);
});
