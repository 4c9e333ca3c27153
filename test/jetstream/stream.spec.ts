import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  ensureIpamStream,
  EventStore,
  IPAM_STREAM_SUBJECTS,
  StreamConfigMismatchError,
} from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

describe('ensureIpamStream', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('creates the stream when missing, with the contract configuration', async () => {
    const r = await ensureIpamStream(jsm);
    expect(r.created).toBe(true);
    expect(r.warnings).toEqual([]);
    const cfg = r.info.config;
    expect(cfg.name).toBe('IPAM');
    expect([...cfg.subjects].sort()).toEqual([...IPAM_STREAM_SUBJECTS].sort());
    expect(cfg.storage).toBe(StorageType.File);
    expect(cfg.retention).toBe(RetentionPolicy.Limits);
    expect(cfg.num_replicas).toBe(1);
    expect(cfg.max_msgs).toBe(-1);
    expect(cfg.max_bytes).toBe(-1);
    expect(cfg.max_age).toBe(0);
    expect(cfg.duplicate_window).toBe(nanos(120_000));
  });

  it('is idempotent: a second call neither recreates nor changes nor purges it', async () => {
    const es = new EventStore(nc, 'IPAM');
    await es.append('ipam.pool.created', { metadata: { name: 'p1' } }, { msgId: 'idem-1' });
    const before = await jsm.streams.info('IPAM');

    const again = await ensureIpamStream(jsm);
    expect(again.created).toBe(false);
    expect(again.warnings).toEqual([]);
    const after = await jsm.streams.info('IPAM');
    expect(after.created).toBe(before.created);
    expect(after.config).toEqual(before.config);
    expect(after.state.messages).toBe(before.state.messages);
    expect(after.state.last_seq).toBe(before.state.last_seq);
  });

  it('is safe to call concurrently from several instances', async () => {
    await jsm.streams.delete('IPAM'); // test setup only: the library never deletes
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureIpamStream(jsm)));
    expect(results.some((r) => r.created)).toBe(true);
    const names = await jsm.streams.names().next();
    expect(names.filter((n) => n === 'IPAM')).toHaveLength(1);
  });

  it('rejects a second stream whose subjects overlap the IPAM stream (server refuses; nothing changes)', async () => {
    await expect(ensureIpamStream(jsm, { name: 'IPAM_COPY' })).rejects.toThrow(
      /cannot create stream IPAM_COPY with subjects \[ipam.pool.>, ipam.lb.>, ipam.ip.>\]: .*overlap/,
    );
    await expect(jsm.streams.info('IPAM_COPY')).rejects.toThrow(/stream not found/);
  });

  it('throws a clear error, and does not modify, when the stream exists with other subjects', async () => {
    await jsm.streams.add({ name: 'OTHER', subjects: ['other.>'], storage: StorageType.File });
    const before = await jsm.streams.info('OTHER');

    await expect(ensureIpamStream(jsm, { name: 'OTHER' })).rejects.toBeInstanceOf(StreamConfigMismatchError);
    await expect(ensureIpamStream(jsm, { name: 'OTHER' })).rejects.toThrow(
      /stream OTHER exists with subjects \[other\.>\] but \[ipam\.pool\.>, ipam\.lb\.>, ipam\.ip\.>\] are required; refusing to modify it/,
    );
    const after = await jsm.streams.info('OTHER');
    expect(after.config).toEqual(before.config);
    expect(after.created).toBe(before.created);
  });

  it('uses an existing stream with the right subjects but other settings as it is, with warnings', async () => {
    await jsm.streams.delete('IPAM');
    await jsm.streams.add({
      name: 'IPAM',
      subjects: ['ipam.ip.>', 'ipam.pool.>', 'ipam.lb.>'], // same set, another order
      storage: StorageType.Memory,
      max_age: nanos(3_600_000),
    });
    const before = await jsm.streams.info('IPAM');
    const r = await ensureIpamStream(jsm);
    expect(r.created).toBe(false);
    expect(r.warnings.join('\n')).toMatch(/storage/);
    expect(r.warnings.join('\n')).toMatch(/max_age/);
    const after = await jsm.streams.info('IPAM');
    expect(after.config).toEqual(before.config);
  });
});
