/**
 * Running CLI command lines in-process against a test nats-server and an in-process service, with
 * stdout/stderr captured as strings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import type { CliIo } from '../../apps/cli/src/io.js';
import { run } from '../../apps/cli/src/main.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';

export interface Captured {
  io: CliIo;
  out(): string;
  err(): string;
}

export function captureIo(
  opts: { stdin?: string; env?: Record<string, string>; stderrIsTTY?: boolean } = {},
): Captured {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: opts.stderrIsTTY === true },
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    env: opts.env ?? {},
  };
  return { io, out: () => out, err: () => err };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface CliEnv {
  nats: TestNats;
  service: IpamService | undefined;
  stream: string;
  /** runs `ipam --server URL --stream STREAM --timeout 10 ARGV` in-process */
  ipam(argv: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<CliResult>;
  startService(): Promise<IpamService>;
  /** The path of `name` in the env's temporary directory (made on first use, removed by stop). */
  path(name: string): string;
  /** Writes `text` to `name` in the temporary directory; returns its path. */
  file(name: string, text: string): string;
  /** The stream's last sequence. */
  lastSeq(): Promise<number>;
  stop(): Promise<void>;
}

/** A test nats-server; the service on `stream` runs in-process unless `withService` is false. */
export async function startCliEnv(stream: string, withService = true): Promise<CliEnv> {
  const nats = await startTestNats();
  let dir: string | undefined;
  const env: CliEnv = {
    nats,
    service: undefined,
    stream,
    async ipam(argv, opts = {}) {
      const c = captureIo(opts);
      // the defaults first: an option given in argv comes later and wins
      const code = await run(['--server', nats.url, '--stream', stream, '--timeout', '10', ...argv], c.io);
      return { code, out: c.out(), err: c.err() };
    },
    async startService() {
      const service = await startTestService(nats.url, {
        IPAM_STREAM: stream,
        IPAM_INSTANCE_ID: `cli-${stream}`,
        LOG_LEVEL: 'silent',
        IPAM_LEASE_TTL_MS: '2000',
      });
      env.service = service;
      await waitUntilLive(service);
      return service;
    },
    path(name) {
      dir ??= mkdtempSync(join(tmpdir(), 'ipam-cli-'));
      return join(dir, name);
    },
    file(name, text) {
      const p = env.path(name);
      writeFileSync(p, text);
      return p;
    },
    async lastSeq() {
      const nc = await nats.connect();
      try {
        return (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
      } finally {
        await nc.close();
      }
    },
    async stop() {
      await env.service?.close().catch(() => undefined);
      await nats.stop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  if (withService) await env.startService();
  return env;
}

/** The lines of a text, without the empty last one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}
