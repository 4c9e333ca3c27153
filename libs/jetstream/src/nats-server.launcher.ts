/**
 * Starts a local `nats-server` process with JetStream enabled, for tests, benchmarks and local runs.
 *
 * The server always listens on loopback only (`-a 127.0.0.1`), so nothing started here is reachable
 * from outside the machine. It is ready when its output (stderr, or the log file) says "Server is
 * ready" and a TCP connect to the client port succeeds; another process that happens to hold the
 * port is therefore never mistaken for ours (the server then exits with "address already in use",
 * reported as a NatsServerStartError carrying its output).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface StartNatsServerOptions {
  /** Client port; 0 (the default) picks a free loopback port. */
  port?: number;
  /** JetStream store directory; default: a fresh `mkdtemp` directory (never removed by the launcher). */
  storeDir?: string;
  /** Listen address. Only loopback is supported: always `127.0.0.1`. */
  host?: '127.0.0.1';
  /** When set, the server logs to this file (`-l`) instead of stderr. */
  logFile?: string;
  /** Path of the `nats-server` binary; default: `$NATS_SERVER_BIN`, then `nats-server` on PATH. */
  binary?: string;
  /** How long to wait for the server to accept connections; default 10 s. */
  readyTimeoutMs?: number;
  /** Extra command line arguments appended after the standard ones (e.g. `['-DV']`). */
  extraArgs?: string[];
  /**
   * A configuration file (`-c`), e.g. deploy/nats/nats-server.conf with its users and permissions.
   * The command line still sets the listen address and port (loopback only) and enables JetStream.
   */
  configFile?: string;
  /** Variables added to the server's environment (a configuration file may read them, e.g. passwords). */
  env?: Record<string, string>;
  /**
   * Pass `-sd STORE` (default true). False when the configuration file sets `store_dir` itself
   * (nats-server refuses both), e.g. from a variable given in `env`.
   */
  storeDirArg?: boolean;
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number;
  /** The stdout/stderr the server wrote so far (bounded; empty when `logFile` is used). */
  output(): string;
  /** True until the process has exited. */
  isRunning(): boolean;
  /** SIGTERM, wait for exit (up to `graceMs`, default 5 s), then SIGKILL. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash: no clean shutdown of the store) and wait for exit. Idempotent. */
  kill9(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const MAX_OUTPUT_CHARS = 64 * 1024;
const READY_LINE = /Server is ready/;

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** All servers started by this process, killed synchronously if the process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** The `nats-server` binary: `$NATS_SERVER_BIN` when set and executable, else the first on PATH, else null. */
export function findNatsServer(): string | null {
  const isExecutable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv && isExecutable(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Resolves true when a TCP connection to host:port succeeds within `timeoutMs` (default 500 ms). */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A currently free loopback TCP port (bind to :0 and release it; the caller must tolerate a race). */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

export class NatsServerStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(output ? `${message}\n--- nats-server output ---\n${output.trimEnd()}` : message);
    this.name = 'NatsServerStartError';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `nats-server -js -a 127.0.0.1 -p PORT -sd STORE` and resolves once it accepts client
 * connections. With `port: 0` a free port is chosen; if the server loses the race for it (port taken
 * between probe and bind) it is retried on another port.
 */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const host = opts.host ?? LOOPBACK;
  if (host !== LOOPBACK) throw new Error(`startNatsServer only listens on ${LOOPBACK}, got ${String(host)}`);
  const binary = opts.binary ?? findNatsServer();
  if (!binary) {
    throw new Error('nats-server not found: install it on PATH or set NATS_SERVER_BIN to its path');
  }
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'nats-js-'));
  const requestedPort = opts.port ?? 0;
  const attempts = requestedPort === 0 ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = requestedPort === 0 ? await freePort(host) : requestedPort;
    try {
      return await spawnOnce(binary, host, port, storeDir, opts);
    } catch (err) {
      lastError = err;
      const addrInUse = err instanceof NatsServerStartError && /address already in use/i.test(err.output);
      if (!addrInUse) throw err;
    }
  }
  throw lastError;
}

async function spawnOnce(
  binary: string,
  host: string,
  port: number,
  storeDir: string,
  opts: StartNatsServerOptions,
): Promise<NatsServerHandle> {
  const args = ['-js', '-a', host, '-p', String(port)];
  if (opts.storeDirArg !== false) args.push('-sd', storeDir);
  if (opts.configFile) args.push('-c', opts.configFile);
  if (opts.logFile) args.push('-l', opts.logFile);
  if (opts.extraArgs) args.push(...opts.extraArgs);

  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  live.add(child);
  installExitHook();

  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(output.length - MAX_OUTPUT_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  // Mutated from event callbacks; kept in an object so control-flow narrowing does not assume constants.
  const state: { exited: boolean; exitInfo: string; spawnError: Error | null } = {
    exited: false,
    exitInfo: '',
    spawnError: null,
  };
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      state.exited = true;
      state.exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
      live.delete(child);
      resolve();
    });
  });
  child.once('error', (err) => {
    state.spawnError = err;
    state.exited = true;
    live.delete(child);
  });

  // With a log file the output goes there; only what this process appended counts (the file may be reused).
  const logOffset = opts.logFile ? fileSize(opts.logFile) : 0;
  const fullOutput = (): string => {
    if (!opts.logFile) return output;
    try {
      const text = readFileSync(opts.logFile).subarray(logOffset).toString('utf8');
      return output + text.slice(Math.max(0, text.length - MAX_OUTPUT_CHARS));
    } catch {
      return output;
    }
  };

  const waitExit = async (ms: number): Promise<boolean> => {
    if (state.exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    const ok = await Promise.race([exitPromise.then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  };

  const stop = async (graceMs = 5000): Promise<void> => {
    if (state.exited) return;
    child.kill('SIGTERM');
    if (await waitExit(graceMs)) return;
    child.kill('SIGKILL');
    await waitExit(graceMs);
  };
  const kill9 = async (): Promise<void> => {
    if (state.exited) return;
    child.kill('SIGKILL');
    await waitExit(5000);
  };

  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (state.spawnError) {
      throw new NatsServerStartError(`failed to spawn ${binary}: ${state.spawnError.message}`, fullOutput());
    }
    if (state.exited) {
      await exitPromise;
      throw new NatsServerStartError(
        `nats-server exited during startup (${state.exitInfo}): ${binary} ${args.join(' ')}`,
        fullOutput(),
      );
    }
    // Ready = our server said so (which it does after binding the client port, with JetStream up)
    // and the port answers. The log line matters: another process holding the port would answer too.
    if (READY_LINE.test(fullOutput()) && (await isListening(host, port, 250)) && !state.exited) break;
    if (Date.now() > deadline) {
      await kill9();
      throw new NatsServerStartError(
        `nats-server did not accept connections on ${host}:${port} within ${readyTimeoutMs} ms: ${binary} ${args.join(' ')}`,
        fullOutput(),
      );
    }
    await sleep(25);
  }

  return {
    url: `nats://${host}:${port}`,
    host,
    port,
    storeDir,
    pid: child.pid ?? -1,
    output: () => output,
    isRunning: () => !state.exited,
    stop,
    kill9,
  };
}
