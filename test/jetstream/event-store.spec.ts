import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AppendConflictError,
  decodeJson,
  ensureIpamStream,
  EventStore,
  NoStreamForSubjectError,
  READ_BATCH_MAX,
  WrongLastMsgIdError,
  WrongLastSequenceError,
  type StoredMessage,
} from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

async function collect(it: AsyncIterable<StoredMessage>): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

describe('EventStore', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let es: EventStore;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    jsm = await jetstreamManager(nc);
    await ensureIpamStream(jsm);
    es = new EventStore(nc, 'IPAM');
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('appends object and byte bodies and reports the stream sequence', async () => {
    expect(await es.lastSeq()).toBe(0);
    const a = await es.append('ipam.pool.created', { metadata: { name: 'p1' } });
    expect(a).toEqual({ seq: 1, duplicate: false });
    const b = await es.append('ipam.lb.requested', new TextEncoder().encode('{"raw":true}'));
    expect(b).toEqual({ seq: 2, duplicate: false });
    expect(await es.lastSeq()).toBe(2);
    const m1 = await es.getMessage(1);
    expect(m1?.subject).toBe('ipam.pool.created');
    expect(decodeJson(m1!.data)).toEqual({ metadata: { name: 'p1' } });
    expect(m1?.msgId).toBeNull();
    expect(decodeJson((await es.getMessage(2))!.data)).toEqual({ raw: true });
  });

  it('de-duplicates by msgId: a repeat is acknowledged as duplicate with the original sequence and not stored', async () => {
    const first = await es.append('ipam.lb.requested', { n: 1 }, { msgId: 'dup-1' });
    expect(first.duplicate).toBe(false);
    const again = await es.append('ipam.lb.requested', { n: 1 }, { msgId: 'dup-1' });
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    expect(await es.lastSeq()).toBe(first.seq);
    const m = await es.getMessage(first.seq);
    expect(m?.msgId).toBe('dup-1');
  });

  it('accepts an append whose expectedLastSeq matches', async () => {
    const last = await es.lastSeq();
    const r = await es.append('ipam.ip.allocated', { ok: true }, { expectedLastSeq: last, msgId: 'els-ok' });
    expect(r).toEqual({ seq: last + 1, duplicate: false });
  });

  it('rejects an expectedLastSeq mismatch with a clear error and stores nothing', async () => {
    const last = await es.lastSeq();
    const err = await es
      .append('ipam.ip.allocated', { stale: true }, { expectedLastSeq: last - 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongLastSequenceError);
    const w = err as WrongLastSequenceError;
    expect(w.expectedLastSeq).toBe(last - 1);
    expect(w.actualLastSeq).toBe(last);
    expect(w.subject).toBe('ipam.ip.allocated');
    expect(w.message).toBe(
      `append to ipam.ip.allocated rejected: expected the stream's last sequence to be ${last - 1}, but it is ${last} (another writer appended first)`,
    );
    expect(await es.lastSeq()).toBe(last);
  });

  it('answers a retried append (same msgId, now-stale expectedLastSeq) as a duplicate, not a sequence error', async () => {
    const last = await es.lastSeq();
    const r1 = await es.append(
      'ipam.ip.allocated',
      { retry: 1 },
      { msgId: 'retry-1', expectedLastSeq: last },
    );
    const r2 = await es.append(
      'ipam.ip.allocated',
      { retry: 1 },
      { msgId: 'retry-1', expectedLastSeq: last },
    );
    expect(r2).toEqual({ seq: r1.seq, duplicate: true });
  });

  it('pipelines appends: many PubAcks in flight, stored in call order', async () => {
    const base = await es.lastSeq();
    const n = 500;
    const pending: Promise<{ seq: number; duplicate: boolean }>[] = [];
    for (let i = 0; i < n; i++) {
      pending.push(
        es.appendNoWait('ipam.lb.requested', { i }, { msgId: `pipe-${i}`, expectedLastSeq: base + i }),
      );
    }
    const acks = await Promise.all(pending);
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: n }, (_, i) => base + i + 1));
    const read = await collect(es.read({ fromSeq: base + 1 }));
    expect(read.map((m) => (decodeJson(m.data) as { i: number }).i)).toEqual(
      Array.from({ length: n }, (_, i) => i),
    );
  });

  it('fences a pipelined chain only when chained by msgId (expectedLastSeq alone lets the chain resume on top of an intruder)', async () => {
    const base = await es.lastSeq();
    const chain = [0, 1, 2].map((i) =>
      es
        .appendNoWait('ipam.lb.requested', { chain: i }, { expectedLastSeq: base + i })
        .catch((e: unknown) => e),
    );
    // (the chain was written first, so it wins; a writer that expected `base` now loses)
    const intruder = await es
      .append('ipam.lb.requested', { intruder: true }, { expectedLastSeq: base })
      .catch((e: unknown) => e);
    const results = await Promise.all(chain);
    expect(results.map((r) => (r as { seq: number }).seq)).toEqual([base + 1, base + 2, base + 3]);
    expect(intruder).toBeInstanceOf(WrongLastSequenceError);

    // Now the other way round: someone appends first. With expectedLastSeq alone, only the first
    // message of the chain fails: the second expects base2+1, which is now the intruder's sequence.
    const base2 = await es.lastSeq();
    await es.append('ipam.lb.requested', { other: true });
    const naive = await Promise.all(
      [0, 1, 2].map((i) =>
        es
          .appendNoWait('ipam.lb.requested', { naive: i }, { expectedLastSeq: base2 + i })
          .catch((e: unknown) => e),
      ),
    );
    expect(naive[0]).toBeInstanceOf(WrongLastSequenceError);
    expect(naive.slice(1).map((r) => (r as { seq: number }).seq)).toEqual([base2 + 2, base2 + 3]);

    // Chained by msgId (expectedLastMsgId = previous message's id), every message after the conflict fails.
    const base3 = await es.lastSeq();
    await es.append('ipam.lb.requested', { other: 2 });
    const ids = ['fence-0', 'fence-1', 'fence-2'];
    const fenced = await Promise.all(
      ids.map((id, i) =>
        es
          .appendNoWait(
            'ipam.lb.requested',
            { fenced: i },
            { msgId: id, expectedLastSeq: base3 + i, expectedLastMsgId: i > 0 ? ids[i - 1] : undefined },
          )
          .catch((e: unknown) => e),
      ),
    );
    expect(fenced[0]).toBeInstanceOf(WrongLastSequenceError);
    expect(fenced[1]).toBeInstanceOf(WrongLastMsgIdError);
    expect(fenced[2]).toBeInstanceOf(AppendConflictError); // (here: a sequence error, since fence-1 is missing too)
    expect((fenced[1] as Error).message).toMatch(
      /expected the stream's last message to have Nats-Msg-Id "fence-0"/,
    );
    expect(await es.lastSeq()).toBe(base3 + 1);

    // And without a conflict the chained form stores the whole chain.
    const base4 = await es.lastSeq();
    const ok = await Promise.all(
      ['ok-0', 'ok-1', 'ok-2'].map((id, i, all) =>
        es.appendNoWait(
          'ipam.lb.requested',
          { ok: i },
          { msgId: id, expectedLastSeq: base4 + i, expectedLastMsgId: i > 0 ? all[i - 1] : undefined },
        ),
      ),
    );
    expect(ok.map((a) => a.seq)).toEqual([base4 + 1, base4 + 2, base4 + 3]);
  });

  it('reads a range in stream order with subject, msgId, time and headers', async () => {
    const t0 = Date.now();
    const from = (await es.lastSeq()) + 1;
    await es.append('ipam.pool.created', { k: 'a' }, { msgId: 'r-a', headers: { 'X-Trace': 't1' } });
    await es.append('ipam.lb.requested', { k: 'b' }, { msgId: 'r-b' });
    await es.append('ipam.lb.deleted', { k: 'c' });
    await es.append('ipam.pool.deleted', { k: 'd' }, { msgId: 'r-d' });

    const all = await collect(es.read({ fromSeq: from }));
    expect(all.map((m) => m.seq)).toEqual([from, from + 1, from + 2, from + 3]);
    expect(all.map((m) => m.subject)).toEqual([
      'ipam.pool.created',
      'ipam.lb.requested',
      'ipam.lb.deleted',
      'ipam.pool.deleted',
    ]);
    expect(all.map((m) => m.msgId)).toEqual(['r-a', 'r-b', null, 'r-d']);
    expect(all.map((m) => (decodeJson(m.data) as { k: string }).k)).toEqual(['a', 'b', 'c', 'd']);
    expect(all[0].headers?.get('X-Trace')).toBe('t1');
    for (const m of all) {
      expect(m.time).toBeInstanceOf(Date);
      expect(m.time.getTime()).toBeGreaterThanOrEqual(t0 - 1000);
      expect(m.time.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }

    const middle = await collect(es.read({ fromSeq: from + 1, toSeq: from + 2 }));
    expect(middle.map((m) => m.seq)).toEqual([from + 1, from + 2]);
    const one = await collect(es.read({ fromSeq: from + 3, toSeq: from + 3 }));
    expect(one.map((m) => m.msgId)).toEqual(['r-d']);
  });

  it('reads in batches: non-empty, at most READ_BATCH_MAX each, together exactly what read() yields', async () => {
    const from = (await es.lastSeq()) + 1;
    const n = READ_BATCH_MAX + 904; // more than one full batch
    const acks = [];
    for (let i = 0; i < n; i++) {
      acks.push(es.appendNoWait('ipam.lb.requested', { i }, i % 3 === 0 ? { msgId: `batch-${i}` } : {}));
    }
    await Promise.all(acks);
    const batches: StoredMessage[][] = [];
    for await (const b of es.readBatches({ fromSeq: from, toSeq: from + n - 1 })) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(READ_BATCH_MAX);
    }
    const flat = batches.flat();
    expect(flat.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => from + i));
    expect(flat.map((m) => (decodeJson(m.data) as { i: number }).i)).toEqual(
      Array.from({ length: n }, (_, i) => i),
    );
    const one = await collect(es.read({ fromSeq: from, toSeq: from + n - 1 }));
    expect(flat.map((m) => [m.seq, m.subject, m.msgId, m.timeMs])).toEqual(
      one.map((m) => [m.seq, m.subject, m.msgId, m.time.getTime()]),
    );
    expect(flat.filter((m) => m.msgId !== null)).toHaveLength(Math.ceil(n / 3));
    for (const m of flat) expect(m.time.getTime()).toBe(m.timeMs);
  });

  it('reads the whole stream from seq 1 by default, and ends at the last sequence at the start of iteration', async () => {
    const last = await es.lastSeq();
    const seen: number[] = [];
    for await (const m of es.read()) {
      seen.push(m.seq);
      if (seen.length === 1) await es.append('ipam.lb.requested', { during: 'read' }); // not included
    }
    expect(seen).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it('reads nothing for an empty or out-of-range window, and clamps toSeq to the last sequence', async () => {
    const last = await es.lastSeq();
    expect(await collect(es.read({ fromSeq: last + 1 }))).toEqual([]);
    expect(await collect(es.read({ fromSeq: 5, toSeq: 4 }))).toEqual([]);
    const tail = await collect(es.read({ fromSeq: last, toSeq: last + 100 }));
    expect(tail.map((m) => m.seq)).toEqual([last]);
  });

  it('cleans up its consumer when the caller stops early', async () => {
    for await (const m of es.read({ fromSeq: 1 })) {
      if (m.seq === 3) break;
    }
    // consumer deletion is fire-and-forget: give it a moment
    for (let i = 0; i < 50; i++) {
      const info = await jsm.streams.info('IPAM');
      if (info.state.consumer_count === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await jsm.streams.info('IPAM')).state.consumer_count).toBe(0);
  });

  it('skips deleted messages, in the middle and at the end of the window, and ends there', async () => {
    const from = (await es.lastSeq()) + 1;
    for (let i = 0; i < 7; i++) await es.append('ipam.lb.deleted', { d: i });
    await jsm.streams.deleteMessage('IPAM', from + 1);
    await jsm.streams.deleteMessage('IPAM', from + 4);
    await jsm.streams.deleteMessage('IPAM', from + 5);
    // the window's last sequence is deleted and the next message (from + 6) lies past it
    const window = await collect(es.read({ fromSeq: from, toSeq: from + 4 }));
    expect(window.map((m) => m.seq)).toEqual([from, from + 2, from + 3]);
    // the stream's last messages deleted: nothing pending after from + 3
    await jsm.streams.deleteMessage('IPAM', from + 6);
    const tail = await collect(es.read({ fromSeq: from + 2 }));
    expect(tail.map((m) => (decodeJson(m.data) as { d: number }).d)).toEqual([2, 3]);
  });

  it('a read whose consumer is lost mid-way starts again after the last message it read: nothing lost, nothing twice', async () => {
    const from = (await es.lastSeq()) + 1;
    const n = 3 * READ_BATCH_MAX;
    const acks = [];
    // 1 kB each: more than the server sends ahead of the reader (its flow-control window)
    const pad = 'x'.repeat(1024);
    for (let i = 0; i < n; i++) acks.push(es.appendNoWait('ipam.lb.requested', { lost: i, pad }));
    await Promise.all(acks);
    const seen: number[] = [];
    const lost: string[] = [];
    const after = new Set<string>();
    for await (const batch of es.readBatches({ fromSeq: from, toSeq: from + n - 1 })) {
      for (const m of batch) seen.push(m.seq);
      for await (const ci of jsm.consumers.list('IPAM')) {
        if (lost.length > 0) {
          after.add(ci.name);
        } else {
          // the read's own (ephemeral) consumer goes away, as when the server forgets it
          await jsm.consumers.delete('IPAM', ci.name);
          lost.push(ci.name);
        }
      }
    }
    expect(lost).toHaveLength(1);
    // the read went on through a consumer of its own, made after the loss
    expect([...after].filter((name) => name !== lost[0]).length).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => from + i));
  }, 30_000);

  it('getMessage returns null for a sequence that does not exist', async () => {
    expect(await es.getMessage((await es.lastSeq()) + 10)).toBeNull();
  });

  it('rejects a subject no stream captures with a clear error', async () => {
    await expect(es.append('nothing.here', { x: 1 }, { timeoutMs: 1000 })).rejects.toBeInstanceOf(
      NoStreamForSubjectError,
    );
  });

  it('refuses to append through an EventStore bound to another stream than the one storing the subject', async () => {
    await jsm.streams.add({ name: 'SIDE', subjects: ['side.>'] });
    await expect(es.append('side.x', { x: 1 })).rejects.toThrow(
      /append to side\.x: the subject is stored by another stream than IPAM/,
    );
    expect((await jsm.streams.info('SIDE')).state.messages).toBe(0);
  });

  it('keeps acknowledged messages across a server crash (kill -9) and restart', async () => {
    const before = await es.lastSeq();
    const ack = await es.append('ipam.pool.created', { durable: true }, { msgId: 'crash-1' });
    await nats.kill9();
    await nats.restart();
    const nc2 = await nats.connect();
    const es2 = new EventStore(nc2, 'IPAM');
    expect(await es2.lastSeq()).toBe(before + 1);
    const m = await es2.getMessage(ack.seq);
    expect(m?.msgId).toBe('crash-1');
    // the duplicate window survives the restart too
    expect(await es2.append('ipam.pool.created', { durable: true }, { msgId: 'crash-1' })).toEqual({
      seq: ack.seq,
      duplicate: true,
    });
  });
});
