/**
 * What a snapshot stores (libs/jetstream snapshot-store.ts keeps the bytes): the domain's state data
 * (libs/ipam-domain snapshot.ts) with the stream position it covers, as gzip'd JSON. Written by the
 * service (apps/ipam allocator/snapshots.ts), read by it at start and by `ipam replay --verify --snapshot`.
 */
import { promisify } from 'node:util';
import { createGzip, gunzip } from 'node:zlib';
import type { StateSnapshot } from '../../ipam-domain/src/snapshot.js';

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
 * Elements of a long array stringified between two turns of the event loop: a snapshot is written while
 * the service decides, and a state of 20,000 load balancers stringified at once held decisions ~150 ms.
 */
const CHUNK = 4096;

/**
 * JSON text of a plain value, written to `out` in pieces with the event loop let run between them: a
 * long array CHUNK elements at a time, a short array of objects element by element (a pool's tables),
 * anything else at once. The value must not change meanwhile (an export).
 */
async function slicedJson(value: unknown, out: (text: string) => void): Promise<void> {
  if (Array.isArray(value)) {
    if (value.length > CHUNK) {
      out('[');
      for (let i = 0; i < value.length; i += CHUNK) {
        const part = JSON.stringify(value.slice(i, i + CHUNK));
        out(i === 0 ? part.slice(1, -1) : `,${part.slice(1, -1)}`);
        await yieldToEventLoop();
      }
      out(']');
    } else if (value.some((v) => v !== null && typeof v === 'object')) {
      out('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out(',');
        await slicedJson(value[i], out);
      }
      out(']');
    } else {
      out(JSON.stringify(value));
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    out('{');
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out(`${first ? '' : ','}${JSON.stringify(k)}:`);
      first = false;
      await slicedJson(v, out);
    }
    out('}');
    return;
  }
  // (undefined can only come here as an array element: JSON writes it as null)
  out(JSON.stringify(value) ?? 'null');
}

/**
 * The payload as gzip'd JSON. The text goes to the compressor (which runs off the main thread) in pieces
 * of about 64 KB as it is written: never one string of the whole state, never one buffer of it.
 */
export async function encodePayload(p: SnapshotPayload): Promise<Uint8Array> {
  const gz = createGzip({ level: 3 });
  const compressed: Buffer[] = [];
  gz.on('data', (c: Buffer) => compressed.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    gz.once('end', resolve);
    gz.once('error', reject);
  });
  let pending: string[] = [];
  let size = 0;
  const send = () => {
    gz.write(Buffer.from(pending.join('')));
    pending = [];
    size = 0;
  };
  await slicedJson(p, (text) => {
    pending.push(text);
    size += text.length;
    if (size >= 65_536) send();
  });
  if (size > 0) send();
  gz.end();
  await ended;
  return Buffer.concat(compressed);
}

export async function decodePayload(bytes: Uint8Array): Promise<SnapshotPayload> {
  const text = (await gunzipAsync(bytes)).toString('utf8');
  return JSON.parse(text) as SnapshotPayload;
}
