/**
 * Snapshots in JetStream itself: a KV bucket (default `ipam-snapshots`, history 1, file storage, as many
 * replicas as the stream) holding, per snapshot of stream S at sequence N,
 *
 *   `S.<N, 15 digits>.c0000`, `.c0001`, ...   the payload in chunks below the server's max_payload
 *   `S.<N, 15 digits>.meta`                   written last: a snapshot without it does not exist
 *
 * The meta names the stream sequence the payload covers, the store's layout version (`format`), the
 * payload's own format (`stateFormat`, the domain's SNAPSHOT_FORMAT), its size, chunk count, SHA-256
 * (of the stored bytes, all chunks in order), the build that wrote it and when. The payload is opaque
 * here (the service stores gzip'd JSON).
 *
 * `newest()` walks the snapshots newest first and returns the first one that is complete, of a format the
 * caller reads and whose checksum matches; every one skipped is reported with why (`onSkip`). `prune()`
 * removes all but the newest `keep`: its meta first (so a reader never sees half a snapshot as whole),
 * then its chunks, each subject purged outright (no delete markers left behind).
 */
import { createHash } from 'node:crypto';
import { StorageType, jetstreamManager, jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const DEFAULT_SNAPSHOT_BUCKET = 'ipam-snapshots';
/** the layout of keys and meta above */
export const SNAPSHOT_STORE_FORMAT = 1;

export interface SnapshotBuild {
  /** package version */
  version: string;
  /** git commit, when known */
  commit: string | null;
}

export interface SnapshotMeta {
  format: number;
  /** the payload's format (the domain's SNAPSHOT_FORMAT) */
  stateFormat: number;
  stream: string;
  /** the last stream sequence the snapshot covers */
  seq: number;
  bytes: number;
  chunks: number;
  /** hex SHA-256 of the payload bytes */
  sha256: string;
  build: SnapshotBuild;
  /** ISO time it was written */
  writtenAt: string;
  /** the instance that wrote it */
  writer: string;
}

export interface LoadedSnapshot {
  meta: SnapshotMeta;
  payload: Uint8Array;
}

export interface SnapshotSkip {
  seq: number;
  reason: string;
}

export interface OpenSnapshotStoreOptions {
  stream: string;
  bucket?: string;
  replicas?: number;
  /** false: open an existing bucket only (readers such as the CLI); default true */
  create?: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function pad(seq: number): string {
  return String(seq).padStart(15, '0');
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class SnapshotStore {
  private constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    readonly bucket: string,
    readonly stream: string,
    private readonly chunkBytes: number,
  ) {}

  /** Opens the bucket, creating it when missing. */
  static async open(nc: NatsConnection, o: OpenSnapshotStoreOptions): Promise<SnapshotStore> {
    const bucket = o.bucket ?? DEFAULT_SNAPSHOT_BUCKET;
    const kvm = new Kvm(jetstream(nc, { timeout: 10_000 }));
    const kv =
      o.create === false
        ? await kvm.open(bucket)
        : await kvm.create(bucket, { history: 1, storage: StorageType.File, replicas: o.replicas ?? 1 });
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const max = nc.info?.max_payload ?? 1024 * 1024;
    // headroom for the message's subject and headers
    return new SnapshotStore(kv, jsm, bucket, o.stream, Math.max(1024, max - 16 * 1024));
  }

  private key(seq: number, part: string): string {
    return `${this.stream}.${pad(seq)}.${part}`;
  }

  /** Stores a payload covering the stream up to `seq`; resolves with its meta once the meta is stored. */
  async write(
    seq: number,
    payload: Uint8Array,
    o: { stateFormat: number; build: SnapshotBuild; writer: string },
  ): Promise<SnapshotMeta> {
    const chunks = Math.max(1, Math.ceil(payload.length / this.chunkBytes));
    for (let i = 0; i < chunks; i++) {
      const part = payload.subarray(i * this.chunkBytes, Math.min(payload.length, (i + 1) * this.chunkBytes));
      await this.kv.put(this.key(seq, `c${String(i).padStart(4, '0')}`), part);
    }
    const meta: SnapshotMeta = {
      format: SNAPSHOT_STORE_FORMAT,
      stateFormat: o.stateFormat,
      stream: this.stream,
      seq,
      bytes: payload.length,
      chunks,
      sha256: sha256Hex(payload),
      build: o.build,
      writtenAt: new Date().toISOString(),
      writer: o.writer,
    };
    await this.kv.put(this.key(seq, 'meta'), encoder.encode(JSON.stringify(meta)));
    return meta;
  }

  /** The sequences of the stored snapshots (those with a meta), newest first. */
  async list(): Promise<number[]> {
    const seqs: number[] = [];
    const keys = await this.kv.keys(`${this.stream}.*.meta`);
    for await (const k of keys) {
      const seq = Number(k.split('.')[1]);
      if (Number.isSafeInteger(seq)) seqs.push(seq);
    }
    return seqs.sort((a, b) => b - a);
  }

  /** The meta of the snapshot at `seq`, or null (missing or unreadable). */
  async meta(seq: number): Promise<SnapshotMeta | null> {
    const e = await this.kv.get(this.key(seq, 'meta'));
    if (e === null || e.operation !== 'PUT') return null;
    try {
      return JSON.parse(decoder.decode(e.value)) as SnapshotMeta;
    } catch {
      return null;
    }
  }

  /**
   * The snapshot at `seq` read and checked (complete, store format, `stateFormat`, checksum); throws an
   * Error saying what is wrong.
   */
  async read(seq: number, stateFormat: number): Promise<LoadedSnapshot> {
    const meta = await this.meta(seq);
    if (meta === null) throw new Error('its meta is missing or not JSON');
    if (meta.format !== SNAPSHOT_STORE_FORMAT)
      throw new Error(`store format ${meta.format}, this build reads ${SNAPSHOT_STORE_FORMAT}`);
    if (meta.stateFormat !== stateFormat)
      throw new Error(
        `state format ${meta.stateFormat} (written by ${meta.build?.version ?? '?'} ${meta.build?.commit ?? ''}), this build reads ${stateFormat}`.replace(
          ' )',
          ')',
        ),
      );
    if (meta.stream !== this.stream || meta.seq !== seq)
      throw new Error(`its meta names ${meta.stream} at ${meta.seq}`);
    const payload = new Uint8Array(meta.bytes);
    let at = 0;
    for (let i = 0; i < meta.chunks; i++) {
      const e = await this.kv.get(this.key(seq, `c${String(i).padStart(4, '0')}`));
      if (e === null || e.operation !== 'PUT') throw new Error(`chunk ${i} of ${meta.chunks} is missing`);
      if (at + e.value.length > payload.length) throw new Error(`chunk ${i} runs past ${meta.bytes} bytes`);
      payload.set(e.value, at);
      at += e.value.length;
    }
    if (at !== meta.bytes) throw new Error(`${at} bytes stored, the meta says ${meta.bytes}`);
    const sum = sha256Hex(payload);
    if (sum !== meta.sha256)
      throw new Error(`checksum mismatch: sha256 ${sum}, the meta says ${meta.sha256}`);
    return { meta, payload };
  }

  /**
   * The newest snapshot that reads and checks, at or below `atMost` (default: any); each newer one
   * that fails is reported to `onSkip` and passed over. Null when none does.
   */
  async newest(
    stateFormat: number,
    onSkip: (skip: SnapshotSkip) => void,
    accept?: (s: LoadedSnapshot) => void,
    atMost = Infinity,
  ): Promise<LoadedSnapshot | null> {
    for (const seq of await this.list()) {
      if (seq > atMost) {
        onSkip({ seq, reason: `it is past the stream's last sequence ${atMost}` });
        continue;
      }
      try {
        const s = await this.read(seq, stateFormat);
        // the caller's own check (the payload parses, the state imports): throwing skips it too
        accept?.(s);
        return s;
      } catch (e) {
        onSkip({ seq, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return null;
  }

  /** Removes every snapshot but the newest `keep`; returns the sequences removed. */
  async prune(keep = 3): Promise<number[]> {
    const seqs = await this.list();
    const old = seqs.slice(keep);
    for (const seq of old) await this.remove(seq);
    return old;
  }

  /** Removes one snapshot: its meta first, then every chunk (purged with no marker left). */
  async remove(seq: number): Promise<void> {
    const stream = `KV_${this.bucket}`;
    const prefix = `$KV.${this.bucket}.${this.stream}.${pad(seq)}`;
    await this.jsm.streams.purge(stream, { filter: `${prefix}.meta` });
    await this.jsm.streams.purge(stream, { filter: `${prefix}.*` });
  }
}
