/**
 * `ipam replay --verify` on a stream holding a forged outcome: inputs are stored while no service runs,
 * a wrong ipam.ip.allocated for one of them is stored before the service could answer it, then the
 * service starts and answers the rest. The replay names that input as the first divergence.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { replayCommand } from '../../apps/cli/src/commands/replay.js';
import { ensureIpamStream, EventStore } from '../../libs/jetstream/src/index.js';
import { publishInput, StreamAudit } from '../support/stream-audit.js';
import { captureIo, lines, startCliEnv, type CliEnv } from './support.js';

const STREAM = 'IPAM_CLI_REPLAY';
let env: CliEnv;
let nc: NatsConnection;

const POOL = {
  kind: 'IPPool',
  metadata: { name: 'everything' },
  spec: {
    ranges: [{ subnet: '10.0.0.0/24' }],
    selector: { scope: { project: '*', namespace: '*', cluster: '*' } },
  },
};

beforeAll(async () => {
  env = await startCliEnv(STREAM, false);
  nc = await env.nats.connect();
  await ensureIpamStream(await jetstreamManager(nc), { name: STREAM });
  const js = jetstream(nc);
  expect(await publishInput(js, 'ipam.pool.created', POOL, 'in-1')).toBe(1);
  expect(
    await publishInput(js, 'ipam.lb.requested', { metadata: { namespace: 'default', name: 'a' } }, 'in-2'),
  ).toBe(2);
  // the forgery: an allocation the service would never decide (it would give 10.0.0.2)
  const forged = {
    loadBalancer: 'default/a',
    ipPool: 'everything',
    ip: '10.0.0.99',
    mask: '255.255.255.0',
    prefixLength: 24,
    gateway: '10.0.0.1',
    fromHistory: false,
    causationSeq: 2,
    causationId: 'in-2',
  };
  expect(await publishInput(js, 'ipam.ip.allocated', forged, 'forged-2')).toBe(3);
  expect(
    await publishInput(js, 'ipam.lb.requested', { metadata: { namespace: 'default', name: 'b' } }, 'in-4'),
  ).toBe(4);
  expect(await publishInput(js, 'ipam.lb.requested', 'not json at all', 'in-5')).toBe(5);
  await env.startService();
  const audit = new StreamAudit(nc, STREAM);
  await audit.waitUntilAllAnswered({ timeoutMs: 15_000 });
  audit.assertExactlyOnce();
}, 40_000);

afterAll(async () => {
  await env?.stop();
});

describe('ipam replay --verify', () => {
  it('reports the first divergence with the input seq and both outcomes, and exits 1', async () => {
    const r = await env.ipam(['replay', '--verify']);
    expect(r.code).toBe(1);
    const out = lines(r.out);
    expect(out[0]).toBe('divergence at input seq 2 (ipam.lb.requested):');
    expect(out[1]).toMatch(/^ {2}recorded: ipam\.ip\.allocated \(seq 3\) \{.*"ip":"10\.0\.0\.99"/);
    expect(out[2]).toMatch(/^ {2}decided: {2}ipam\.ip\.allocated \{.*"ip":"10\.0\.0\.2"/);
    expect(out[3]).toBe('1 of 4 inputs decided differently (3 the same, 0 unanswered)');
    expect(lines(r.err)).toEqual(['error: replay diverged: first at input seq 2 (ipam.lb.requested)']);
  });

  it('counts inputs not answered yet, and shows progress lines when stderr is not a terminal', async () => {
    // Stop the service, then store one more input: it stays unanswered.
    await env.service!.close();
    env.service = undefined;
    await publishInput(
      jetstream(nc),
      'ipam.lb.requested',
      { metadata: { namespace: 'default', name: 'c' } },
      'in-late',
    );
    const c = captureIo();
    const code = await replayCommand(['--verify', '--server', env.nats.url, '--stream', STREAM], c.io, {
      minTotalForLines: 1,
    });
    expect(code).toBe(1);
    expect(c.out()).toContain('1 of 5 inputs decided differently (3 the same, 1 unanswered)');
    // progress is reported per batch read (this short stream arrives in one or a few)
    const progress = lines(c.err()).filter((l) => l.startsWith('replay: '));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const percents = progress.map((l) => Number(/^replay: (\d+)% \(seq \d+ of \d+\)$/.exec(l)?.[1]));
    expect(percents.every((p, i) => p > 0 && (i === 0 || p > percents[i - 1]))).toBe(true);
    expect(progress[progress.length - 1]).toMatch(/^replay: 100% \(seq \d+ of \d+\)$/);
  });

  it('draws a progress bar on a terminal and clears it', async () => {
    const c = captureIo({ stderrIsTTY: true });
    const code = await replayCommand(['--verify', '--server', env.nats.url, '--stream', STREAM], c.io);
    expect(code).toBe(1);
    expect(c.err()).toContain('\r\x1b[2Kreplay [');
    expect(c.err()).toContain('100%');
    expect(c.err()).toContain('\r\x1b[2K');
    const last = await new EventStore(nc, STREAM).lastSeq();
    expect(c.err()).toContain(`seq ${last} of ${last}`);
  });

  it('says so when no service answers: queries at once, outcomes after --timeout', async () => {
    expect(env.service).toBeUndefined();
    const q = await env.ipam(['get', 'pools']);
    expect(q.code).toBe(1);
    expect(q.err).toBe(
      `error: no IPAM service answers ipam.query.pools on ${env.nats.url}; is the service running?\n`,
    );
    const last = await new EventStore(nc, STREAM).lastSeq();
    const r = await env.ipam(['release', 'lb', 'default/a', '--timeout', '0.5']);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      `error: ipam.lb.deleted was stored as seq ${last + 1} of stream ${STREAM}, but no outcome arrived within 0.5 s; ` +
        'is the IPAM service running? (it will be answered when one runs)',
    ]);
  });
});
