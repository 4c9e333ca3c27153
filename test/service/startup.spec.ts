/**
 * Starting while JetStream is out of reach: the built service waits it out (with a warning and backoff)
 * instead of exiting, and starts deciding once JetStream is there. Here the server it first finds on its
 * address runs without JetStream (every JetStream request goes unanswered); a JetStream server then
 * takes its place on the same port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import {
  findNatsServer,
  freePort,
  isListening,
  startNatsServer,
  type NatsServerHandle,
} from '../../libs/jetstream/src/index.js';
import { connectTestClient } from '../support/nats.js';
import {
  requireBuiltService,
  spawnService,
  stopAllServices,
  testServiceEnv,
  waitForLeader,
} from '../support/ipam-service.js';
import { publishAll, workloadPools } from './workload.js';
import { publishInput, StreamAudit, waitFor } from '../support/stream-audit.js';

const STREAM = 'IPAM_STARTUP';
let server: NatsServerHandle | null = null;
const storeDir = mkdtempSync(join(tmpdir(), 'ipam-startup-'));

afterAll(async () => {
  await stopAllServices();
  await server?.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

describe('start while JetStream is out of reach', () => {
  it('waits with a warning, then takes the lease and decides once JetStream answers', async () => {
    requireBuiltService();
    const binary = findNatsServer();
    if (binary === null) throw new Error('nats-server not found');
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    // a core NATS server: clients connect, JetStream requests have no responders
    const plain = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const plainExit = new Promise((r) => plain.once('exit', r));
    try {
      await waitFor('the core NATS server', () => isListening('127.0.0.1', port), { timeoutMs: 10_000 });
      const p = spawnService(
        testServiceEnv(url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: 'startup-1', LOG_LEVEL: 'warn' }),
      );
      await waitFor(
        'the warning that JetStream is not reachable',
        () => /not reachable yet; retrying/.test(p.stdout()),
        {
          timeoutMs: 15_000,
        },
      );
      expect(p.isRunning()).toBe(true);
      expect(p.stdout()).toMatch(/"err":"[^"]*jetstream is not enabled/i);

      plain.kill('SIGKILL');
      await plainExit;
      server = await startNatsServer({ port, storeDir });
      const nc = await connectTestClient(server.url);
      try {
        await waitForLeader(nc, STREAM, p, 30_000);
        const audit = new StreamAudit(nc, STREAM);
        const js = jetstream(nc);
        await publishAll(js, workloadPools('startup'));
        const seq = await publishInput(
          js,
          'ipam.lb.requested',
          { metadata: { namespace: 'work', name: 'after-start' } },
          'startup-lb',
        );
        const outcome = await audit.waitForOutcome(seq);
        expect(outcome.subject).toBe('ipam.ip.allocated');
        expect(p.isRunning()).toBe(true);
        expect(p.stderr()).not.toMatch(/failed to start/);
      } finally {
        await nc.close();
      }
    } finally {
      if (plain.exitCode === null && plain.signalCode === null) plain.kill('SIGKILL');
    }
  }, 60_000);
});
