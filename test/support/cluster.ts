/**
 * Test harness: a three-node nats-server cluster with JetStream, from the configuration files of
 * deploy/nats/cluster/ (their server names and cluster name), on free 127.0.0.1 client and route ports
 * with a temporary store per node, for jest `beforeAll` / `afterAll`:
 *
 *   let cluster: TestCluster;
 *   beforeAll(async () => { cluster = await startTestCluster(); });
 *   afterAll(async () => { await cluster.stop(); });
 *   ... const nc = await cluster.connect();         // to every node; closed by cluster.stop() too
 *   ... const leader = await cluster.streamLeader('IPAM_T');
 *   ... await cluster.kill9(leader); await cluster.restart(leader);
 *
 * `start` resolves once JetStream answers through every node (a metadata leader was elected).
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import {
  startNatsCluster,
  type NatsCluster,
  type NatsClusterNode,
} from '../../libs/jetstream/src/nats-cluster.launcher.js';
import { REPO_ROOT } from './ipam-service.js';
import { waitFor } from './stream-audit.js';

export const CLUSTER_CONFIGS = [1, 2, 3].map((i) =>
  join(REPO_ROOT, 'deploy', 'nats', 'cluster', `n${i}.conf`),
);

export interface TestCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** the three client URLs, comma-separated: a NATS_URL */
  readonly servers: string;
  /** A client connected to the cluster (any node, reconnecting to the others); closed by `stop()`. */
  connect(opts?: Partial<NodeConnectionOptions>): Promise<NatsConnection>;
  /** SIGKILL node `i` (a crash; its store stays). */
  kill9(i: number): Promise<void>;
  /** Starts node `i` again on its ports and store. */
  restart(i: number): Promise<void>;
  /** The index of the node leading `stream` (its `cluster.leader`), waiting until it has one. */
  streamLeader(stream: string, timeoutMs?: number): Promise<number>;
  /** The stream's info (through the leader). */
  streamInfo(stream: string): Promise<StreamInfo>;
  /** The name of the node leading a consumer of `stream` (null while it has none). */
  consumerLeader(stream: string, consumer: string): Promise<string | null>;
  /** Waits until `stream` has a leader and every replica is current (after a node came back). */
  waitForReplicasCurrent(stream: string, timeoutMs?: number): Promise<void>;
  /** Waits until JetStream answers through every running node. */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Closes the connections made here, stops every node and removes the stores. Idempotent. */
  stop(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const stores = CLUSTER_CONFIGS.map((_, i) => mkdtempSync(join(tmpdir(), `ipam-test-cluster-n${i + 1}-`)));
  const removeStores = () => {
    for (const s of stores) rmSync(s, { recursive: true, force: true });
  };
  let cluster: NatsCluster;
  try {
    cluster = await startNatsCluster({ configFiles: CLUSTER_CONFIGS, storeDirs: stores });
  } catch (e) {
    removeStores();
    throw e;
  }
  const clients = new Set<NatsConnection>();
  let admin: NatsConnection | null = null;
  let stopped = false;

  const self: TestCluster = {
    nodes: cluster.nodes,
    servers: cluster.servers,
    async connect(opts = {}) {
      if (stopped) throw new Error('test cluster already stopped');
      const nc = await connect({
        servers: cluster.urls,
        name: 'jest',
        timeout: 5000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
        ...opts,
      });
      clients.add(nc);
      void nc.closed().then(() => clients.delete(nc));
      return nc;
    },
    kill9: (i) => cluster.kill9(i),
    async restart(i) {
      await cluster.restart(i);
    },
    async streamInfo(stream) {
      admin ??= await self.connect({ name: 'jest-cluster-admin' });
      const jsm = await jetstreamManager(admin, { timeout: 2000 });
      return jsm.streams.info(stream);
    },
    async consumerLeader(stream, consumer) {
      admin ??= await self.connect({ name: 'jest-cluster-admin' });
      const jsm = await jetstreamManager(admin, { timeout: 2000 });
      return (await jsm.consumers.info(stream, consumer)).cluster?.leader ?? null;
    },
    async streamLeader(stream, timeoutMs = 30_000) {
      const name = await waitFor(
        `stream ${stream} to have a leader`,
        async () => {
          const leader = (await self.streamInfo(stream)).cluster?.leader;
          return leader && cluster.byName(leader)?.isRunning() ? leader : null;
        },
        { timeoutMs, intervalMs: 50 },
      );
      const node = cluster.byName(name);
      if (!node)
        throw new Error(
          `stream ${stream} is led by ${name}, which is none of ${cluster.nodes.map((n) => n.name).join(', ')}`,
        );
      return node.index;
    },
    async waitForReplicasCurrent(stream, timeoutMs = 30_000) {
      await waitFor(
        `every replica of stream ${stream} to be current`,
        async () => {
          const c = (await self.streamInfo(stream)).cluster;
          const replicas = c?.replicas ?? [];
          return (
            c?.leader !== undefined &&
            replicas.length === cluster.nodes.length - 1 &&
            replicas.every((r) => r.current && !r.offline)
          );
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    waitForJetStream: (timeoutMs) => cluster.waitForJetStream(timeoutMs),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([...clients].map((nc) => (nc.isClosed() ? Promise.resolve() : nc.close())));
      await cluster.stopAll();
      removeStores();
    },
  };
  return self;
}
