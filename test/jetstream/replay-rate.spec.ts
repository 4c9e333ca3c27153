/**
 * Replay throughput of EventStore.read (ordered pull consumer) against a real nats-server.
 * Checks order and completeness and prints the rate; it asserts no rate (machines differ).
 *
 *   REPLAY_N=200000 NODE_OPTIONS=--experimental-vm-modules npx jest test/jetstream/replay-rate
 *
 * (default 20,000 messages, to keep the regular test run fast)
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureIpamStream, EventStore } from '../../libs/jetstream/src/index.js';
import { startTestNats, type TestNats } from '../support/nats.js';

const N = Number(process.env.REPLAY_N ?? 20_000);
const WINDOW = 2000;

describe('EventStore replay rate', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let es: EventStore;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect({ noAsyncTraces: true });
    await ensureIpamStream(await jetstreamManager(nc));
    es = new EventStore(nc, 'IPAM');
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it(
    `appends ${N} messages pipelined and replays them in order`,
    async () => {
      const body = {
        metadata: {
          namespace: 'default',
          name: 'rke2-default-lb-pool-2fab9ac0',
          annotations: { 'loadbalancer.harvesterhci.io/network': 'default/vlan1' },
        },
        spec: { workloadType: 'vm', ipPool: 'pool-1' },
      };
      let t = performance.now();
      let inflight: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) {
        inflight.push(es.appendNoWait('ipam.lb.requested', { ...body, i }, { msgId: `m-${i}` }));
        if (inflight.length >= WINDOW) {
          await Promise.all(inflight);
          inflight = [];
        }
      }
      await Promise.all(inflight);
      const appendRate = (N / (performance.now() - t)) * 1000;
      expect(await es.lastSeq()).toBe(N);

      const rates: number[] = [];
      for (let run = 0; run < 2; run++) {
        t = performance.now();
        let expected = 1;
        for await (const m of es.read({ fromSeq: 1 })) {
          if (m.seq !== expected || m.msgId !== `m-${expected - 1}`)
            throw new Error(`out of order at ${expected}: got ${m.seq}`);
          expected++;
        }
        expect(expected - 1).toBe(N);
        rates.push((N / (performance.now() - t)) * 1000);
      }
      process.stderr.write(
        `[replay-rate] N=${N}: append (pipelined, window ${WINDOW}, msgId) ${Math.round(appendRate)} msg/s; ` +
          `read ${rates.map((r) => Math.round(r)).join(' / ')} msg/s\n`,
      );
    },
    Math.max(30_000, N / 2),
  );
});
