/**
 * Snapshots over a real nats-server, with the built service (child processes, info logs):
 *
 * - the leader writes a snapshot every IPAM_SNAPSHOT_EVERY_EVENTS messages into the KV bucket; a new
 *   instance started after a kill -9 loads the newest and folds only the messages after it, and decides
 *   the next input as the killed one would have;
 * - a snapshot whose bytes fail their checksum, or whose format this build does not read, is skipped
 *   (logged) for the next older one;
 * - old snapshots are pruned to IPAM_SNAPSHOT_KEEP;
 * - `ipam replay --verify --snapshot` passes on the service's snapshot and fails, naming where, on a
 *   snapshot with a valid checksum of a state that is not the fold's.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { run } from '../../apps/cli/src/main.js';
import { exportState, importState, SNAPSHOT_FORMAT } from '../../libs/ipam-domain/src/snapshot.js';
import { decodePayload, encodePayload } from '../../libs/ipam-audit/src/snapshot-payload.js';
import { SnapshotStore, type SnapshotMeta } from '../../libs/jetstream/src/snapshot-store.js';
import { captureIo } from '../cli/support.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import {
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { StreamAudit, waitFor } from '../support/stream-audit.js';
import { input, publishAll, type Input } from './workload.js';
import { loadBalancer } from './doc-examples.js';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;

beforeAll(async () => {
  requireBuiltService();
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
});

afterAll(async () => {
  await stopAllServices();
  await nats?.stop();
});

/** what each test made: its stream and its snapshot bucket, deleted after it */
const made: string[] = [];

afterEach(async () => {
  await stopAllServices();
  const jsm = await jetstreamManager(nc);
  for (const name of made.splice(0)) await jsm.streams.delete(name).catch(() => undefined);
});

/** A stream and a bucket of the test's own. */
function names(tag: string) {
  made.push(`IPAM_SNAP_${tag}`, `KV_snap-${tag.toLowerCase()}`);
  return { stream: `IPAM_SNAP_${tag}`, bucket: `snap-${tag.toLowerCase()}` };
}

function start(tag: string, id: string, env: Record<string, string> = {}): ServiceProcess {
  const { stream, bucket } = names(tag);
  return spawnService(
    testServiceEnv(nats.url, {
      IPAM_STREAM: stream,
      IPAM_SNAPSHOT_BUCKET: bucket,
      IPAM_INSTANCE_ID: id,
      LOG_LEVEL: 'info',
      IPAM_SNAPSHOT_EVERY_EVENTS: '20',
      ...env,
    }),
  );
}

const pool = (tag: string) =>
  input(
    'ipam.pool.created',
    {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name: 'global' },
      spec: {
        ranges: [{ subnet: '10.30.0.0/24' }],
        selector: { scope: [{ project: '*', namespace: '*', guestCluster: '*' }] },
      },
    },
    `${tag}-pool`,
  );

/** Requests for lb-from .. lb-(to-1), and releases of every third of them (so history is in the state). */
function requests(tag: string, from: number, to: number): Input[] {
  const out: Input[] = [];
  for (let i = from; i < to; i++) {
    out.push(input('ipam.lb.requested', loadBalancer('work', `lb-${i}`), `${tag}-req-${i}`));
    if (i % 3 === 2)
      out.push(
        input('ipam.lb.deleted', { metadata: { namespace: 'work', name: `lb-${i - 1}` } }, `${tag}-del-${i}`),
      );
  }
  return out;
}

/** Publishes the inputs and waits until every one has its outcome in the stream. */
async function decideAll(stream: string, inputs: Input[]): Promise<void> {
  const seqs = await publishAll(js, inputs);
  const audit = new StreamAudit(nc, stream);
  await waitFor(
    `outcomes of seq ${seqs[0]}..${seqs[seqs.length - 1]}`,
    async () => {
      await audit.refresh();
      const byCause = audit.outcomesByCause();
      return seqs.every((s) => byCause.has(s));
    },
    { timeoutMs: 20_000 },
  );
}

/** The outcome the stream holds for the input at `seq`. */
async function outcomeOf(stream: string, seq: number) {
  const audit = new StreamAudit(nc, stream);
  return waitFor(`the outcome of seq ${seq}`, async () => {
    await audit.refresh();
    return audit.outcomesByCause().get(seq)?.[0];
  });
}

async function store(tag: string): Promise<SnapshotStore> {
  const { stream, bucket } = names(tag);
  return SnapshotStore.open(nc, { stream, bucket });
}

/** Lines of a service's JSON log whose message starts with `prefix`. */
function logged(p: ServiceProcess, prefix: string): Array<Record<string, unknown>> {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => typeof o.msg === 'string' && o.msg.startsWith(prefix));
}

async function ipam(argv: string[], env: Record<string, string> = {}) {
  const c = captureIo({ env });
  const code = await run(['--server', nats.url, '--timeout', '20', ...argv], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('snapshots of the state', () => {
  it('are written by the leader and loaded by the next start, which folds only the messages after the newest', async () => {
    const tag = 'LOAD';
    const { stream } = names(tag);
    const first = start(tag, 'snap-load-1');
    await first.waitForLine('"deciding', 20_000);
    await decideAll(stream, [pool(tag), ...requests(tag, 0, 15)]);
    await first.waitForLine('wrote snapshot at seq', 20_000);
    const written = (await (await store(tag)).list())[0];
    expect(written).toBeGreaterThan(0);
    const snapshotLine = logged(first, `wrote snapshot at seq ${written}`)[0];
    expect(snapshotLine).toMatchObject({ seq: written, chunks: 1 });
    expect(typeof snapshotLine.pauseMs).toBe('number');
    // a tail the snapshot does not cover: 2 inputs and their outcomes
    await decideAll(stream, requests(tag, 15, 17).slice(0, 2));
    const audit = new StreamAudit(nc, stream);
    const last = await audit.lastSeq();
    await first.kill9();

    const second = start(tag, 'snap-load-2');
    await second.waitForLine('"deciding', 20_000);
    const newest = (await (await store(tag)).list())[0];
    expect(logged(second, `loaded snapshot at seq ${newest}`)).toHaveLength(1);
    expect(logged(second, 'deciding')[0]).toMatchObject({
      snapshotSeq: newest,
      folded: last - newest,
      msg: `deciding: loaded snapshot at seq ${newest}, folded ${last - newest} events after it`,
    });
    expect(last - newest).toBeLessThan(last);
    // the next request gets what an uninterrupted fold gives it: the next address after the last one
    const [seq] = await publishAll(js, [
      input('ipam.lb.requested', loadBalancer('work', 'after'), `${tag}-after`),
    ]);
    const outcome = await outcomeOf(stream, seq);
    const meta = (await (await store(tag)).meta(newest)) as SnapshotMeta;
    expect(meta).toMatchObject({ stream, seq: newest, stateFormat: SNAPSHOT_FORMAT });
    expect(meta.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.build.version).toMatch(/^\d+\.\d+\.\d+/);
    const r = await ipam(['--stream', stream, 'replay', '--verify'], {});
    expect(r.code).toBe(0);
    expect(outcome.subject).toBe('ipam.ip.allocated');
    // the audit read model covers the stream before the snapshot too (built after catching up,
    await second.waitForLine('audit read model built', 20_000);
    // in a worker thread of its own: its heap goes with it)
    expect(logged(second, 'audit read model built')[0]).toMatchObject({ inWorker: true });
    const http = await second.httpUrl();
    const timeline = (await (await fetch(`${http}/v1/audit/loadbalancers/work/lb-1`)).json()) as {
      entries: Array<{ kind: string; ip: string; to: { seq: number } | null }>;
    };
    // lb-1 was requested (10.30.0.3: .1 is the gateway, .2 went to lb-0), then released: one closed holding
    expect(timeline.entries).toEqual([
      expect.objectContaining({
        kind: 'held',
        ip: '10.30.0.3',
        to: expect.objectContaining({ seq: expect.any(Number) }),
      }),
    ]);
  });

  it('one that fails its checksum or has another format is skipped, logged, for the next older one; old ones are pruned to 3', async () => {
    const tag = 'SKIP';
    const { stream } = names(tag);
    const first = start(tag, 'snap-skip-1', { IPAM_SNAPSHOT_EVERY_EVENTS: '10' });
    await first.waitForLine('"deciding', 20_000);
    // in rounds: a snapshot is taken where every input read has its outcome (here: each round's end)
    await decideAll(stream, [pool(tag), ...requests(tag, 0, 6)]);
    for (let round = 1; round < 5; round++) await decideAll(stream, requests(tag, round * 6, round * 6 + 6));
    const s = await store(tag);
    // the newest written, and the older ones pruned after it
    await waitFor('3 snapshots, the newest logged as written with a pruning', async () => {
      const lines = logged(first, 'wrote snapshot at seq');
      const last = lines[lines.length - 1];
      const seqs = await s.list();
      return seqs.length === 3 && last?.seq === seqs[0] && (last.pruned as number[]).length > 0;
    });
    await first.kill9();
    const seqs = await s.list();
    expect(seqs).toHaveLength(3);
    const [newest, older, oldest] = seqs;
    // the newest: one chunk's bytes changed (the meta's checksum no longer holds)
    const chunkKey = `${stream}.${String(newest).padStart(15, '0')}.c0000`;
    const chunk = (await s.kv.get(chunkKey))!.value.slice();
    chunk[chunk.length >> 1] ^= 0xff;
    await s.kv.put(chunkKey, chunk);
    // the next: a format this build does not read
    const metaKey = `${stream}.${String(older).padStart(15, '0')}.meta`;
    const meta = (await s.meta(older))!;
    await s.kv.put(metaKey, JSON.stringify({ ...meta, stateFormat: SNAPSHOT_FORMAT + 1 }));

    const second = start(tag, 'snap-skip-2', { IPAM_SNAPSHOT_EVERY_EVENTS: '0' });
    await second.waitForLine('"deciding', 20_000);
    expect(logged(second, `skipped the snapshot at seq ${newest}`)[0].reason).toMatch(/^checksum mismatch/);
    expect(logged(second, `skipped the snapshot at seq ${older}`)[0].reason).toMatch(
      new RegExp(`^state format ${SNAPSHOT_FORMAT + 1} .*this build reads ${SNAPSHOT_FORMAT}$`),
    );
    expect(logged(second, `loaded snapshot at seq ${oldest}`)).toHaveLength(1);
    // and it decides on: the fold from that snapshot equals the fold of the whole stream
    await decideAll(stream, requests(tag, 30, 32));
    const r = await ipam(['--stream', stream, 'replay', '--verify']);
    expect(r.code).toBe(0);
  });

  it('ipam replay --verify --snapshot passes on the service snapshot and fails, saying where, on a tampered one with a valid checksum', async () => {
    const tag = 'VERIFY';
    const { stream, bucket } = names(tag);
    const first = start(tag, 'snap-verify-1');
    await first.waitForLine('"deciding', 20_000);
    await decideAll(stream, [pool(tag), ...requests(tag, 0, 12)]);
    await first.waitForLine('wrote snapshot at seq', 20_000);
    await first.kill9();
    const env = { IPAM_SNAPSHOT_BUCKET: bucket };
    const ok = await ipam(['--stream', stream, 'replay', '--verify', '--snapshot'], env);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /^snapshot verified: the snapshot at seq \d+ \(written .* by snap-verify-1, build /m,
    );

    // a newer snapshot at the same point whose state holds one more address than the fold (checksum valid)
    const s = await store(tag);
    const newest = (await s.list())[0];
    const loaded = await s.read(newest, SNAPSHOT_FORMAT);
    const payload = await decodePayload(loaded.payload);
    const state = importState(payload.state);
    const g = state.pools.get('global')!;
    g.allocatedCount += 1;
    const tampered = await encodePayload({ ...payload, state: exportState(state) });
    await s.remove(newest);
    await s.write(newest, tampered, {
      stateFormat: SNAPSHOT_FORMAT,
      build: loaded.meta.build,
      writer: 'tamperer',
    });
    const bad = await ipam(['--stream', stream, 'replay', '--verify', '--snapshot'], env);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(
      `snapshot at seq ${newest} differs from the full fold at state.pools[0] (global).allocatedCount: snapshot ${g.allocatedCount}, full fold ${g.allocatedCount - 1}`,
    );
    expect(bad.err).toContain(`error: snapshot at seq ${newest} (written`);
  });
});
