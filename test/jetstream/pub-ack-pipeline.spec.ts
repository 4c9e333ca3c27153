/**
 * The outcome writer's path to JetStream: many publishes in flight on one reply subscription, over a
 * connection whose socket writes are coalesced. Against a real nats-server.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectCoalesced, PubAckPipeline, StreamPublishError } from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startTestNats();
  nc = await connectCoalesced({ servers: nats.url, name: 'pub-ack-pipeline', timeout: 5000 });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function freshStream(name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
}

async function dropStream(name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(name).catch(() => undefined);
}

describe('PubAckPipeline', () => {
  it('given 5,000 publishes in flight at once, then each resolves with its own stream sequence, in order', async () => {
    await freshStream('PIPE1');
    try {
      const pipeline = new PubAckPipeline(nc);
      const acks = await Promise.all(
        Array.from({ length: 5000 }, (_, i) => pipeline.publish('PIPE1.out', `{"i":${i}}`, `pipe1-${i}`)),
      );
      expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
      expect(acks.every((a) => a.stream === 'PIPE1' && !a.duplicate)).toBe(true);
      const jsm = await jetstreamManager(nc);
      const stored = await jsm.streams.getMessage('PIPE1', { seq: 4321 });
      expect(stored?.string()).toBe('{"i":4320}');
      expect(stored?.header.get('Nats-Msg-Id')).toBe('pipe1-4320');
      pipeline.close();
    } finally {
      await dropStream('PIPE1');
    }
  });

  it('given a message id already stored, then the publish is answered as a duplicate of that message', async () => {
    await freshStream('PIPE2');
    try {
      const pipeline = new PubAckPipeline(nc);
      const first = await pipeline.publish('PIPE2.a', 'one', 'same-id');
      const again = await pipeline.publish('PIPE2.a', 'two', 'same-id');
      expect(first).toEqual({ stream: 'PIPE2', seq: 1, duplicate: false });
      expect(again).toEqual({ stream: 'PIPE2', seq: 1, duplicate: true });
      pipeline.close();
    } finally {
      await dropStream('PIPE2');
    }
  });

  it('given no stream for the subject, then the publish rejects with NoResponders', async () => {
    const pipeline = new PubAckPipeline(nc);
    const e = await pipeline.publish('nostream.here', 'x', 'id-1').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StreamPublishError);
    expect((e as StreamPublishError).code).toBe('NoResponders');
    pipeline.close();
  });

  it('given a refusal by the stream, then the publish rejects with Refused and the server code', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PIPE3', subjects: ['PIPE3.>'], max_msg_size: 8 });
    try {
      const pipeline = new PubAckPipeline(nc);
      const e = await pipeline
        .publish('PIPE3.big', 'more than eight bytes', 'id-big')
        .catch((err: unknown) => err);
      expect(e).toBeInstanceOf(StreamPublishError);
      expect((e as StreamPublishError).code).toBe('Refused');
      expect((e as StreamPublishError).message).toMatch(/message size/i);
      pipeline.close();
    } finally {
      await dropStream('PIPE3');
    }
  });

  it('given a responder that never answers, then the publish rejects with Timeout after its deadline', async () => {
    const silent = nc.subscribe('silent.subject', { callback: () => undefined });
    const pipeline = new PubAckPipeline(nc, { timeoutMs: 300, sweepMs: 50 });
    const started = Date.now();
    const e = await pipeline.publish('silent.subject', 'x', 'id-s').catch((err: unknown) => err);
    expect((e as StreamPublishError).code).toBe('Timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    silent.unsubscribe();
    pipeline.close();
  });

  it('given publishes waiting when it closes, then they reject with Closed, and so do later ones', async () => {
    const silent = nc.subscribe('silent.closing', { callback: () => undefined });
    const pipeline = new PubAckPipeline(nc);
    const waiting = pipeline.publish('silent.closing', 'x', 'id-c').catch((err: unknown) => err);
    await nc.flush();
    pipeline.close();
    expect(((await waiting) as StreamPublishError).code).toBe('Closed');
    const later = await pipeline.publish('silent.closing', 'y', 'id-d').catch((err: unknown) => err);
    expect((later as StreamPublishError).code).toBe('Closed');
    silent.unsubscribe();
  });
});

describe('connectCoalesced', () => {
  it('delivers every message of a burst, in order, and a request answered in the same turn', async () => {
    const other = await nats.connect();
    try {
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        other.subscribe('burst.x', {
          callback: (_e, m) => {
            got.push(m.string());
            if (got.length === 2000) resolve();
          },
        });
      });
      other.subscribe('echo', {
        callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      await other.flush();
      for (let i = 0; i < 2000; i++) nc.publish('burst.x', String(i));
      const echo = await nc.request('echo', 'hello', { timeout: 2000 });
      await done;
      expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
      expect(echo.string()).toBe('hello');
    } finally {
      await other.close();
    }
  });

  it('reconnects after the server restarts, and the pipeline publishes on', async () => {
    const own = await startTestNats();
    const client = await connectCoalesced({
      servers: own.url,
      name: 'reconnecting',
      timeout: 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      const jsm = await jetstreamManager(client);
      await jsm.streams.add({ name: 'PIPE4', subjects: ['PIPE4.>'] });
      const pipeline = new PubAckPipeline(client);
      expect((await pipeline.publish('PIPE4.a', 'before', 'r-1')).seq).toBe(1);
      const reconnected = (async () => {
        for await (const st of client.status()) if (st.type === 'reconnect') return;
      })();
      await own.restart();
      await reconnected;
      expect(await pipeline.publish('PIPE4.a', 'after', 'r-2')).toEqual({
        stream: 'PIPE4',
        seq: 2,
        duplicate: false,
      });
      const echo = client.subscribe('echo.after', {
        callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      expect((await client.request('echo.after', 'still here', { timeout: 2000 })).string()).toBe(
        'still here',
      );
      echo.unsubscribe();
      pipeline.close();
    } finally {
      await client.close();
      await own.stop();
    }
  }, 30_000);

  it('writes what it holds on flush() and on drain(), as the plain client does', async () => {
    const other = await nats.connect();
    try {
      const got: string[] = [];
      other.subscribe('last.words', {
        callback: (_e, m) => {
          got.push(m.string());
        },
      });
      await other.flush();
      const flushed = await connectCoalesced({ servers: nats.url, name: 'flushing', timeout: 5000 });
      flushed.publish('last.words', 'flushed');
      await flushed.flush();
      await flushed.close();
      const drained = await connectCoalesced({ servers: nats.url, name: 'draining', timeout: 5000 });
      drained.publish('last.words', 'drained');
      await drained.drain();
      await waitUntil(() => got.length === 2);
      expect(got).toEqual(['flushed', 'drained']);
    } finally {
      await other.close();
    }
  });
});
