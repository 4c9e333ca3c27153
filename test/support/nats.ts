/**
 * Test harness: a real nats-server with JetStream on a free 127.0.0.1 port and a temporary store,
 * for jest `beforeAll` / `afterAll`:
 *
 *   let nats: TestNats;
 *   beforeAll(async () => { nats = await startTestNats(); });
 *   afterAll(async () => { await nats.stop(); });
 *   ... const nc = await nats.connect();  // closed by nats.stop() too
 *
 * Tests never touch anything but 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '../../libs/jetstream/src/nats-server.launcher.js';

export interface TestNats {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The running server (replaced by `restart()`). */
  readonly server: NatsServerHandle;
  /** A client connection to this server; every connection made here is closed by `stop()`. */
  connect(opts?: Partial<NodeConnectionOptions>): Promise<NatsConnection>;
  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL (a crash), keeping the store; `restart()` brings it back. */
  kill9(): Promise<void>;
  /** Closes the connections made by `connect()`, stops the server and removes the store. Idempotent. */
  stop(): Promise<void>;
}

export interface StartTestNatsOptions {
  /** Also log to this file (the default keeps the output in memory, shown on startup failure). */
  logFile?: string;
}

/** Connects a client to `url` with settings suited to tests (short timeouts, no reconnect storms). */
export function connectTestClient(
  url: string,
  opts: Partial<NodeConnectionOptions> = {},
): Promise<NatsConnection> {
  return connect({
    servers: url,
    name: 'jest',
    timeout: 5000,
    maxReconnectAttempts: 20,
    reconnectTimeWait: 100,
    ...opts,
  });
}

export async function startTestNats(opts: StartTestNatsOptions = {}): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'ipam-test-nats-'));
  let server: NatsServerHandle;
  try {
    server = await startNatsServer({ port: 0, storeDir, logFile: opts.logFile });
  } catch (err) {
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
  const port = server.port;
  const url = server.url;
  const clients = new Set<NatsConnection>();
  let stopped = false;

  return {
    url,
    port,
    storeDir,
    get server() {
      return server;
    },
    async connect(copts = {}) {
      if (stopped) throw new Error('test nats-server already stopped');
      const nc = await connectTestClient(url, copts);
      clients.add(nc);
      void nc.closed().then(() => clients.delete(nc));
      return nc;
    },
    async restart() {
      await server.stop();
      server = await startNatsServer({ port, storeDir, logFile: opts.logFile });
    },
    async kill9() {
      await server.kill9();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([...clients].map((nc) => (nc.isClosed() ? Promise.resolve() : nc.close())));
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
