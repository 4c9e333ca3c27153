/**
 * `ipam replay --verify` on a stream holding a forged outcome: inputs are stored while no service runs,
 * and a wrong ipam.ip.allocated for one of them before any service could answer it. Before a service
 * runs, that input's only outcome is refused: the replay names it as the first divergence. Then the
 * service starts, refuses the forgery too and answers every input: the replay verifies and reports the
 * refused outcome.
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
}, 40_000);

afterAll(async () => {
  await env?.stop();
});

describe('ipam replay --verify', () => {
  it('before any service answered: the input whose only outcome is refused is the first divergence, exit 1', async () => {
    const r = await env.ipam(['replay', '--verify']);
    expect(r.code).toBe(1);
    expect(lines(r.out)).toEqual([
      'divergence at input seq 2 (ipam.lb.requested):',
      expect.stringMatching(/^ {2}recorded: ipam\.ip\.allocated \(seq 3\) \{.*"ip":"10\.0\.0\.99"/),
      // with the pool's creation unanswered, this build has no pool to allocate from
      expect.stringMatching(/^ {2}decided: {2}ipam\.lb\.rejected \{.*"code":"NoMatchingPool"/),
      '1 of 4 inputs decided differently (0 the same, 3 unanswered)',
      'refused: 1 stored outcome not accepted by this build (never applied); the first:',
      expect.stringMatching(/^ {2}seq 3 ipam\.ip\.allocated \{.*"ip":"10\.0\.0\.99"/),
      expect.stringMatching(/^ {2}refused: not this build's answer to input seq 2 \(ipam\.lb\.rejected /),
    ]);
    expect(lines(r.err)).toEqual(['error: replay diverged: first at input seq 2 (ipam.lb.requested)']);
  });

  it('once the service answered every input: verified, with the refused forgery reported, exit 0', async () => {
    await env.startService();
    const audit = new StreamAudit(nc, STREAM);
    await audit.waitUntilAllAnswered({ timeoutMs: 15_000 });
    expect(
      audit
        .outcomesByCause()
        .get(2)
        ?.map((o) => o.body.ip),
    ).toEqual(['10.0.0.99', '10.0.0.2']);
    const r = await env.ipam(['replay', '--verify']);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      'verified: all 4 inputs decided the same way (0 unanswered)',
      'refused: 1 stored outcome not accepted by this build (never applied); the first:',
      expect.stringMatching(/^ {2}seq 3 ipam\.ip\.allocated \{.*"ip":"10\.0\.0\.99"/),
      expect.stringMatching(
        /^ {2}refused: not this build's answer to input seq 2 \(ipam\.ip\.allocated \{.*"ip":"10\.0\.0\.2"/,
      ),
    ]);
    expect(r.err).toBe('');
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
    expect(code).toBe(0);
    expect(c.out()).toContain('verified: all 4 inputs decided the same way (1 unanswered)');
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
    expect(code).toBe(0);
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
