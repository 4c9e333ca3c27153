/**
 * What a snapshot stores (libs/jetstream snapshot-store.ts keeps the bytes): the domain's state data
 * (libs/ipam-domain snapshot.ts) with the stream position it covers, as gzip'd JSON. Written by the
 * service (apps/ipam allocator/snapshots.ts), read by it at start and by `ipam replay --verify --snapshot`.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { StateSnapshot } from '../../ipam-domain/src/snapshot.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** What a snapshot's payload holds besides the state. */
export interface SnapshotPayload {
  /** the last stream sequence it covers */
  seq: number;
  /** the sequence of the last input answered at that point */
  lastAnswered: number;
  /** when the stream was created (a snapshot of a stream deleted and created again does not fit) */
  streamCreated: string | null;
  state: StateSnapshot;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * JSON text of a plain value, built in slices: arrays longer than SLICE are written SLICE elements at a
 * time with the event loop let run between slices. The value must not change meanwhile (an export).
 */
const SLICE = 100_000;
async function slicedJson(value: unknown, out: string[]): Promise<void> {
  if (Array.isArray(value) && value.length > SLICE) {
    out.push('[');
    for (let i = 0; i < value.length; i += SLICE) {
      const part = JSON.stringify(value.slice(i, i + SLICE));
      out.push(i === 0 ? part.slice(1, -1) : `,${part.slice(1, -1)}`);
      await yieldToEventLoop();
    }
    out.push(']');
    return;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    out.push('{');
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out.push(`${first ? '' : ','}${JSON.stringify(k)}:`);
      first = false;
      await slicedJson(v, out);
    }
    out.push('}');
    return;
  }
  if (Array.isArray(value)) {
    // a short array of possibly long ones (a pool's tables): slice inside each element
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      await slicedJson(value[i], out);
    }
    out.push(']');
    return;
  }
  out.push(JSON.stringify(value));
}

export async function encodePayload(p: SnapshotPayload): Promise<Uint8Array> {
  const parts: string[] = [];
  await slicedJson(p, parts);
  return gzipAsync(Buffer.from(parts.join('')), { level: 3 });
}

export async function decodePayload(bytes: Uint8Array): Promise<SnapshotPayload> {
  const text = (await gunzipAsync(bytes)).toString('utf8');
  return JSON.parse(text) as SnapshotPayload;
}
