/**
 * Running the IPAM service in tests: in-process (`startTestService`) or as a child process of the built
 * entry point (`spawnService`, `node dist/apps/ipam/src/main.js`), against a test nats-server.
 *
 * Child processes are tracked here; `stopAllServices()` (call it in afterAll) kills every one still
 * running, and a process 'exit' hook kills them too if a test run dies. Only processes started here are
 * ever signalled, each by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '../../apps/ipam/src/config/ipam.config.js';
import { createLogger } from '../../apps/ipam/src/logging/logger.js';
import { startIpamService, type IpamService } from '../../apps/ipam/src/service.js';
import { waitFor } from './stream-audit.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN_JS = join(REPO_ROOT, 'dist', 'apps', 'ipam', 'src', 'main.js');

/** Fails with a clear message when the service has not been built (npm test builds it in pretest). */
export function requireBuiltService(): void {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} does not exist: run "npm run build" first`);
}

/** The service in this process, with test settings (warn-level logs, free HTTP port, 2 s lease). */
/**
 * The environment of a service under test: the given NATS server, HTTP on a free loopback port, warnings
 * only, a 2 s decider lease; `env` adds to it or overrides it (IPAM_STREAM, IPAM_INSTANCE_ID, ...).
 */
export function testServiceEnv(natsUrl: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    IPAM_LEASE_TTL_MS: '2000',
    ...env,
  };
}

export async function startTestService(
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<IpamService> {
  const config = loadConfig(testServiceEnv(natsUrl, env));
  const logger = createLogger(config.LOG_LEVEL, config.IPAM_INSTANCE_ID);
  const service = await startIpamService(config, logger);
  return service;
}

/** Waits until an in-process service leads and has read the stream (it decides new inputs at once). */
export async function waitUntilLive(service: IpamService, timeoutMs = 10_000): Promise<void> {
  await waitFor('the service to lead and catch up', () => service.allocator.isLive, { timeoutMs });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly pid: number;
  readonly instanceId: string;
  readonly child: ChildProcess;
  /** everything the process wrote so far */
  stdout(): string;
  stderr(): string;
  /** resolves when the process has exited */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** the HTTP address from the "ipam service started" log line (needs LOG_LEVEL info or lower) */
  httpUrl(timeoutMs?: number): Promise<string>;
  /** waits until a stdout line contains `text` (a log message at a level the process logs) */
  waitForLine(text: string, timeoutMs?: number): Promise<void>;
  kill9(): Promise<ExitInfo>;
  /** sends `signal` and waits for the exit (SIGKILL after `timeoutMs`, and then the promise rejects) */
  terminate(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

const running = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const c of running) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

let counter = 0;

/**
 * Starts `node dist/apps/ipam/src/main.js` with exactly `env` (plus PATH/HOME; nothing else is inherited,
 * so no NATS_* or NODE_OPTIONS of the test run leaks in).
 */
export function spawnService(env: Record<string, string>): ServiceProcess {
  requireBuiltService();
  installExitHook();
  const instanceId = env.IPAM_INSTANCE_ID ?? `test-${process.pid}-${++counter}`;
  const child = spawn(process.execPath, [MAIN_JS], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      IPAM_INSTANCE_ID: instanceId,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
    child.once('error', () => {
      running.delete(child);
      resolveExit({ code: null, signal: null });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const handle: ServiceProcess = {
    pid: child.pid ?? -1,
    instanceId,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    isRunning: () => !done,
    async httpUrl(timeoutMs = 10_000) {
      return waitFor(
        `the HTTP address of ${instanceId}`,
        () => {
          if (done) throw new Error(`${instanceId} exited; stderr: ${err}`);
          for (const line of out.split('\n')) {
            if (!line.includes('ipam service started')) continue;
            try {
              const http = (JSON.parse(line) as { http?: string }).http;
              if (http) return http;
            } catch {
              // a partial line: wait for the rest
            }
          }
          return null;
        },
        { timeoutMs },
      );
    },
    async waitForLine(text: string, timeoutMs = 10_000) {
      await waitFor(
        `${instanceId} to log "${text}"`,
        () => {
          if (out.includes(text)) return true;
          if (done) throw new Error(`${instanceId} exited; stderr: ${err}`);
          return false;
        },
        { timeoutMs, intervalMs: 2 },
      );
    },
    async kill9() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
    async terminate(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (!done) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
      const info = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (info === null) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(
          `${instanceId} did not exit within ${timeoutMs} ms of ${signal}; stderr: ${err}; stdout (tail): ${out.slice(-3000)}`,
        );
      }
      return info;
    },
  };
  return handle;
}

/** Kills (SIGKILL) every service process started by `spawnService` that is still running. */
export async function stopAllServices(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of [...running]) {
    waits.push(new Promise((r) => c.once('exit', r)));
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(waits);
}

/** The instance id holding the decider lease of `stream`, or null (none, released, or expired). */
export async function leaseHolder(
  nc: NatsConnection,
  stream: string,
  bucket = 'ipam-leader',
): Promise<string | null> {
  const kv = await new Kvm(jetstream(nc)).open(bucket);
  const entry = await kv.get(stream).catch(() => null);
  if (!entry || entry.operation !== 'PUT') return null;
  const v = entry.json<{ holder?: string; expiresAt?: number }>();
  if (typeof v.holder !== 'string' || typeof v.expiresAt !== 'number' || v.expiresAt <= Date.now())
    return null;
  return v.holder;
}

/**
 * Waits until the service (or the instance id) holds the decider lease of `stream`. Given the service,
 * a timeout says whether it still runs, who holds the lease, and the end of what it printed.
 */
export async function waitForLeader(
  nc: NatsConnection,
  stream: string,
  who: ServiceProcess | string,
  timeoutMs = 15_000,
): Promise<void> {
  const instanceId = typeof who === 'string' ? who : who.instanceId;
  try {
    await waitFor(
      `${instanceId} to hold the lease of ${stream}`,
      async () => (await leaseHolder(nc, stream)) === instanceId,
      { timeoutMs, intervalMs: 50 },
    );
  } catch (e) {
    if (typeof who === 'string') throw e;
    const holder = await leaseHolder(nc, stream).catch((err: unknown) => `(unreadable: ${String(err)})`);
    const tail = (text: string) => text.split('\n').slice(-15).join('\n');
    throw new Error(
      `${(e as Error).message}; ${who.isRunning() ? 'it is running' : 'it has exited'}, the lease holder is ${holder ?? 'nobody'}\n` +
        `stdout (end):\n${tail(who.stdout())}\nstderr (end):\n${tail(who.stderr())}`,
      { cause: e },
    );
  }
}

/** The value of an unlabelled metric on a service's /metrics at `url` (null when absent). */
export async function serviceMetric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}
