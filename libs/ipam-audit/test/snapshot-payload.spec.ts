/**
 * A snapshot's payload is written in pieces (long arrays a chunk at a time, the text compressed as it
 * goes) and reads back as what JSON would have made of it, whatever its shape.
 */
import fc from 'fast-check';
import { gunzipSync } from 'node:zlib';
import { decodePayload, encodePayload, type SnapshotPayload } from '../src/snapshot-payload.js';

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function payloadOf(state: unknown): SnapshotPayload {
  return { seq: 42, lastAnswered: 41, streamCreated: null, state: state as SnapshotPayload['state'] };
}

describe('encodePayload', () => {
  it('given long columns, nested tables and fields left undefined, then it reads back as JSON would have it', async () => {
    const state = {
      key: Array.from({ length: 20_000 }, (_, i) => `ns/lb-${i}`),
      hold: Array.from({ length: 60_001 }, (_, i) => (i % 3 === 0 ? -1 : i)),
      pools: [
        { name: 'a', table: Array.from({ length: 9_000 }, (_, i) => [i, `x${i}`]), note: undefined },
        { name: 'b', table: [], nested: { deeper: [{ v: 1 }, { v: null }, undefined] } },
      ],
      empty: {},
      text: 'quotes " and \\ and \u2028 and é',
    };
    const bytes = await encodePayload(payloadOf(state));
    expect(JSON.parse(gunzipSync(bytes).toString('utf8'))).toEqual(asJson(payloadOf(state)));
    expect(await decodePayload(bytes)).toEqual(asJson(payloadOf(state)));
  });

  it('writes the same text as JSON.stringify for any JSON-like value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const bytes = await encodePayload(payloadOf(value));
        expect(gunzipSync(bytes).toString('utf8')).toBe(JSON.stringify(payloadOf(value)));
      }),
      { numRuns: 200 },
    );
  });

  it('lets the event loop run while it writes a large state', async () => {
    const state = { key: Array.from({ length: 200_000 }, (_, i) => `ns/lb-${i}`) };
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    try {
      await encodePayload(payloadOf(state));
    } finally {
      clearInterval(timer);
    }
    expect(turns).toBeGreaterThan(10);
  });
});
