/**
 * The allocator's snapshots: written in the background, loaded at start (libs/jetstream snapshot-store.ts
 * for where and how they are stored, libs/ipam-domain snapshot.ts for what the state's data is).
 *
 * Writing. Once IPAM_SNAPSHOT_EVERY_EVENTS stream messages (or IPAM_SNAPSHOT_EVERY_MS with any new
 * message) have been read since the last snapshot, the leader takes one at the next quiet point: a
 * message after which every input read so far has its answer stored and read back (the in-order fold's
 * ledger is empty). There, the state is exactly the fold of the stream up to that message, so the
 * snapshot is tagged with its sequence. The one synchronous step is exportState (plain data, a copy: the
 * state goes on changing at once); the JSON text is built from that copy in slices with the event loop
 * let run between them, compressed on libuv's thread pool and stored in chunks. Then all but the newest
 * IPAM_SNAPSHOT_KEEP are removed. Under a load that never lets the ledger empty the snapshot waits.
 *
 * Loading. Before the first read of the stream, the newest snapshot that reads, checks (format,
 * SHA-256, the stream it was taken of) and imports becomes the state; the stream is then read from the
 * message after it. Any snapshot that does not is logged and passed over for an older one or for a full
 * read of the stream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { exportState, importState, SNAPSHOT_FORMAT } from '../../../../libs/ipam-domain/src/snapshot.js';
import type { IpamState } from '../../../../libs/ipam-domain/src/index.js';
import {
  SnapshotStore,
  type LoadedSnapshot,
  type SnapshotBuild,
  type SnapshotMeta,
} from '../../../../libs/jetstream/src/snapshot-store.js';
import {
  decodePayload,
  encodePayload,
  type SnapshotPayload,
} from '../../../../libs/ipam-audit/src/snapshot-payload.js';
import type { IpamEnv } from '../config/ipam.config.js';
import type { AppLogger } from '../logging/logger.js';

/** What the allocator lets the snapshots see. */
export interface SnapshotSubject {
  state: IpamState;
  lastAnswered: number;
  /** the last stream sequence read */
  readonly readSeq: number;
  /** every input read so far has its answer stored and read back */
  readonly quiet: boolean;
}

/** The package version and git commit of this build (IPAM_BUILD_COMMIT, else .git when run from a checkout). */
export function buildInfo(): SnapshotBuild {
  let dir = dirname(fileURLToPath(import.meta.url));
  let version = '0.0.0';
  let root: string | null = null;
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const p = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (p.name === 'ipam-jetstream') {
          version = p.version ?? version;
          root = dir;
          break;
        }
      } catch {
        // not ours
      }
    }
    dir = dirname(dir);
  }
  return { version, commit: process.env.IPAM_BUILD_COMMIT || (root === null ? null : gitCommit(root)) };
}

function gitCommit(root: string): string | null {
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    const loose = join(root, '.git', ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    return line ? line.split(' ')[0] : null;
  } catch {
    return null;
  }
}

export interface SnapshotWritten {
  meta: SnapshotMeta;
  /** the synchronous step (exportState), ms */
  pauseMs: number;
  totalMs: number;
  pruned: number[];
}

export class StateSnapshots {
  readonly build = buildInfo();
  private lastSeq = 0;
  private lastAt = performance.now();
  private writing = false;
  private streamCreated: string | null = null;
  /** the snapshot the last restore loaded (0: none) */
  loadedSeq = 0;
  /** snapshots written by this process */
  written = 0;

  constructor(
    readonly store: SnapshotStore,
    private readonly nc: NatsConnection,
    private readonly config: IpamEnv,
    private readonly logger: AppLogger,
  ) {}

  static async open(nc: NatsConnection, config: IpamEnv, logger: AppLogger): Promise<StateSnapshots> {
    const store = await SnapshotStore.open(nc, {
      stream: config.IPAM_STREAM,
      bucket: config.IPAM_SNAPSHOT_BUCKET,
      replicas: config.IPAM_STREAM_REPLICAS,
    });
    return new StateSnapshots(store, nc, config, logger);
  }

  private async streamInfo(): Promise<{ created: string | null; lastSeq: number }> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info(this.config.IPAM_STREAM);
    return { created: info.created ?? null, lastSeq: info.state.last_seq };
  }

  /**
   * Loads the newest usable snapshot into `into`; returns the sequence to read the stream after (0: from
   * its start). Never throws: a failure to read snapshots at all is logged and means a full read.
   */
  async restore(into: SnapshotSubject): Promise<number> {
    this.loadedSeq = 0;
    try {
      const started = performance.now();
      const stream = await this.streamInfo();
      this.streamCreated = stream.created;
      let decoded: { payload: SnapshotPayload; state: IpamState } | null = null;
      const check = async (s: LoadedSnapshot) => {
        const payload = await decodePayload(s.payload);
        if (payload.seq !== s.meta.seq)
          throw new Error(`its payload covers ${payload.seq}, not ${s.meta.seq}`);
        if (
          stream.created !== null &&
          payload.streamCreated !== null &&
          payload.streamCreated !== stream.created
        )
          throw new Error(
            `it was taken of a stream created ${payload.streamCreated}, this one was created ${stream.created}`,
          );
        decoded = { payload, state: importState(payload.state) };
      };
      let loaded: LoadedSnapshot | null = null;
      for (const seq of await this.store.list()) {
        const skip = (reason: string) =>
          this.logger.warn(
            { seq, reason, bucket: this.store.bucket },
            `skipped the snapshot at seq ${seq}: ${reason}`,
          );
        if (seq > stream.lastSeq) {
          skip(`it is past the stream's last sequence ${stream.lastSeq}`);
          continue;
        }
        try {
          const s = await this.store.read(seq, SNAPSHOT_FORMAT);
          await check(s);
          loaded = s;
          break;
        } catch (e) {
          skip(e instanceof Error ? e.message : String(e));
        }
      }
      if (loaded === null || decoded === null) {
        this.logger.info({ bucket: this.store.bucket }, 'no usable snapshot; reading the whole stream');
        return 0;
      }
      const { payload, state } = decoded as { payload: SnapshotPayload; state: IpamState };
      into.state = state;
      into.lastAnswered = payload.lastAnswered;
      this.loadedSeq = payload.seq;
      this.lastSeq = payload.seq;
      this.lastAt = performance.now();
      const meta = (loaded as LoadedSnapshot).meta;
      this.logger.info(
        {
          seq: payload.seq,
          bytes: meta.bytes,
          writtenAt: meta.writtenAt,
          build: meta.build,
          loadMs: Math.round(performance.now() - started),
        },
        `loaded snapshot at seq ${payload.seq}`,
      );
      return payload.seq;
    } catch (e) {
      this.logger.warn({ err: String(e) }, 'could not read snapshots; reading the whole stream');
      return 0;
    }
  }

  private idle: NodeJS.Timeout | null = null;

  /**
   * Looks every few seconds for a snapshot due by time while nothing is read (after a burst the state
   * is quiet and no message comes along to trigger one).
   */
  watchIdle(subject: SnapshotSubject, leading: () => boolean): void {
    const everyMs = this.config.IPAM_SNAPSHOT_EVERY_MS;
    if (everyMs <= 0 || this.idle !== null) return;
    this.idle = setInterval(() => this.after(subject.readSeq, subject, leading()), Math.min(everyMs, 5000));
    this.idle.unref();
  }

  stop(): void {
    if (this.idle !== null) clearInterval(this.idle);
    this.idle = null;
  }

  /** After each message the allocator read (at `seq`): take a snapshot when one is due and it is quiet. */
  after(seq: number, subject: SnapshotSubject, leading: boolean): void {
    if (this.writing || !leading || !subject.quiet || seq <= this.lastSeq) return;
    const every = this.config.IPAM_SNAPSHOT_EVERY_EVENTS;
    const everyMs = this.config.IPAM_SNAPSHOT_EVERY_MS;
    const due =
      (every > 0 && seq - this.lastSeq >= every) ||
      (everyMs > 0 && performance.now() - this.lastAt >= everyMs);
    if (!due) return;
    void this.take(seq, subject).catch(() => undefined);
  }

  /** Takes a snapshot of the state now, as of `seq` (the caller knows it is quiet). */
  async take(seq: number, subject: SnapshotSubject): Promise<SnapshotWritten | null> {
    if (this.writing) return null;
    this.writing = true;
    this.lastSeq = seq;
    this.lastAt = performance.now();
    const started = performance.now();
    try {
      const state = exportState(subject.state);
      const pauseMs = performance.now() - started;
      const payload = await encodePayload({
        seq,
        lastAnswered: subject.lastAnswered,
        streamCreated: this.streamCreated,
        state,
      });
      const meta = await this.store.write(seq, payload, {
        stateFormat: SNAPSHOT_FORMAT,
        build: this.build,
        writer: this.config.IPAM_INSTANCE_ID,
      });
      const pruned = await this.store.prune(this.config.IPAM_SNAPSHOT_KEEP);
      const totalMs = performance.now() - started;
      this.written++;
      this.logger.info(
        {
          seq,
          bytes: meta.bytes,
          chunks: meta.chunks,
          pauseMs: Math.round(pauseMs * 10) / 10,
          totalMs: Math.round(totalMs),
          pruned,
        },
        `wrote snapshot at seq ${seq}`,
      );
      return { meta, pauseMs, totalMs, pruned };
    } catch (e) {
      this.logger.warn({ seq, err: String(e) }, 'writing a snapshot failed; the next one is due as usual');
      throw e;
    } finally {
      this.writing = false;
    }
  }
}
