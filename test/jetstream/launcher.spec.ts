import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findNatsServer,
  freePort,
  isListening,
  NatsServerStartError,
  startNatsServer,
  type NatsServerHandle,
} from '../../libs/jetstream/src/index.js';
import { startTestNats } from '../support/nats.js';

describe('nats-server launcher', () => {
  const dirs: string[] = [];
  const servers: NatsServerHandle[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'launcher-spec-'));
    dirs.push(d);
    return d;
  };

  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.kill9()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('finds nats-server on PATH', () => {
    const bin = findNatsServer();
    expect(bin).not.toBeNull();
    expect(bin).toMatch(/nats-server$/);
  });

  it('starts on a free loopback port, accepts connections, and stops', async () => {
    const storeDir = tmp();
    const srv = await startNatsServer({ port: 0, storeDir });
    servers.push(srv);
    expect(srv.url).toBe(`nats://127.0.0.1:${srv.port}`);
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.storeDir).toBe(storeDir);
    expect(srv.isRunning()).toBe(true);
    expect(await isListening('127.0.0.1', srv.port)).toBe(true);

    await srv.stop();
    expect(srv.isRunning()).toBe(false);
    expect(await isListening('127.0.0.1', srv.port)).toBe(false);
    await srv.stop(); // idempotent
    await srv.kill9(); // idempotent after exit
  });

  it('kill9 terminates the process at once', async () => {
    const srv = await startNatsServer({ storeDir: tmp() });
    servers.push(srv);
    await srv.kill9();
    expect(srv.isRunning()).toBe(false);
    expect(await isListening('127.0.0.1', srv.port)).toBe(false);
  });

  it('creates a fresh store directory when none is given', async () => {
    const srv = await startNatsServer();
    servers.push(srv);
    dirs.push(srv.storeDir);
    expect(existsSync(srv.storeDir)).toBe(true);
    await srv.stop();
  });

  it('writes to logFile when given', async () => {
    const logFile = join(tmp(), 'nats.log');
    // a server logging to a file has been seen taking over 10 s to accept connections on a loaded machine
    const srv = await startNatsServer({ storeDir: tmp(), logFile, readyTimeoutMs: 30_000 });
    servers.push(srv);
    await srv.stop();
    expect(readFileSync(logFile, 'utf8')).toMatch(/Server is ready/);
  }, 60_000);

  it('fails with a clear error including the server output when the port is taken', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const err = await startNatsServer({ port, storeDir: tmp(), readyTimeoutMs: 5000 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NatsServerStartError);
      expect((err as Error).message).toMatch(/exited during startup/);
      expect((err as NatsServerStartError).output).toMatch(/address already in use/i);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects a non-loopback host', async () => {
    await expect(startNatsServer({ host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(
      /only listens on 127\.0\.0\.1/,
    );
  });

  it('test harness: starts, connects, restarts on the same port, and removes its store on stop', async () => {
    const nats = await startTestNats();
    try {
      expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await nats.connect();
      await nc.flush();
      await nats.restart();
      expect(nats.server.port).toBe(nats.port);
      expect(await isListening('127.0.0.1', nats.port)).toBe(true);
    } finally {
      await nats.stop();
    }
    expect(existsSync(nats.storeDir)).toBe(false);
    expect(await isListening('127.0.0.1', nats.port)).toBe(false);
  });
});
