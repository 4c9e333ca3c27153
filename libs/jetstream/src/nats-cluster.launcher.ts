/**
 * Starts a local cluster of `nats-server`s with JetStream (three by default), for tests and benchmarks:
 * each node on loopback client and route ports, with a store of its own, routed to the others.
 *
 * A node's configuration file (deploy/nats/cluster/n1.conf ...) gives its `server_name`, the cluster's
 * name and JetStream's `store_dir` (from `NATS_STORE_DIR`); the command line puts the ports on loopback
 * (`-p`, `--cluster`, `--routes`), so the same files serve fixed ports for a developer and free ports in
 * tests. Without configuration files, names and the cluster name come from the command line.
 *
 * A node can be killed (-9), stopped and started again on the same ports and store, as a host that
 * crashed and came back. Nothing here listens beyond 127.0.0.1.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  freePort,
  NatsServerStartError,
  startNatsServer,
  type NatsServerHandle,
} from './nats-server.launcher.js';

const LOOPBACK = '127.0.0.1';

export interface StartNatsClusterOptions {
  /** Number of nodes; default the number of `configFiles`, else 3. */
  size?: number;
  /** One configuration file per node (server_name, cluster name, `store_dir: $NATS_STORE_DIR`). */
  configFiles?: string[];
  /** Server names when no configuration files are given; default `n1`, `n2`, ... */
  names?: string[];
  /** Cluster name when no configuration files are given; default `ipam`. */
  clusterName?: string;
  /** Client ports; default free loopback ports. */
  clientPorts?: number[];
  /** Route ports; default free loopback ports. */
  routePorts?: number[];
  /** Store directories; default a fresh `mkdtemp` directory per node (never removed here). */
  storeDirs?: string[];
  /** Per node: log to this file instead of keeping the output in memory. */
  logFiles?: string[];
  /** How long to wait for each server to accept connections; default 10 s. */
  readyTimeoutMs?: number;
  /** Extra command line arguments for every node. */
  extraArgs?: string[];
}

export interface NatsClusterNode {
  /** 0-based position in the cluster */
  readonly index: number;
  /** the server's name (as JetStream reports it, e.g. a stream's `cluster.leader`), known once it ran */
  readonly name: string;
  readonly url: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly storeDir: string;
  /** The current process, or null while the node is down. */
  readonly server: NatsServerHandle | null;
  isRunning(): boolean;
}

export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** every node's client URL, comma-separated (a NATS_URL) */
  readonly servers: string;
  /** the client URLs of the nodes */
  readonly urls: string[];
  /** the node named `name` (e.g. a stream leader), or undefined */
  byName(name: string): NatsClusterNode | undefined;
  /** SIGKILL (a crash) of node `i`; the store stays. */
  kill9(i: number): Promise<void>;
  /** SIGTERM of node `i` (a clean shutdown). */
  stop(i: number): Promise<void>;
  /** Starts node `i` again on the same ports and store (stops it first when it still runs). */
  restart(i: number): Promise<void>;
  /** Waits until JetStream answers account requests through a connection to the running nodes. */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL). Stores are left to the caller. Idempotent. */
  stopAll(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface NodeState {
  index: number;
  name: string;
  clientPort: number;
  routePort: number;
  storeDir: string;
  configFile?: string;
  logFile?: string;
  server: NatsServerHandle | null;
}

async function distinctFreePorts(count: number, avoid: Set<number>): Promise<number[]> {
  const out: number[] = [];
  while (out.length < count) {
    const p = await freePort(LOOPBACK);
    if (avoid.has(p) || out.includes(p)) continue;
    out.push(p);
  }
  return out;
}

/**
 * Starts the nodes (all at once: each waits for its routes) and resolves once every one accepts
 * client connections and JetStream answers through them (a metadata leader was elected).
 */
export async function startNatsCluster(opts: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? opts.configFiles?.length ?? 3;
  if (!(size >= 1)) throw new Error(`a cluster needs at least one node, got ${size}`);
  if (opts.configFiles && opts.configFiles.length !== size) {
    throw new Error(`${opts.configFiles.length} configuration files for ${size} nodes`);
  }
  // Free ports are probed, then bound by the servers: another process may take one in between. A
  // start that fails with "address already in use" is retried on new ports (when they were free picks).
  const attempts = opts.clientPorts || opts.routePorts ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const clientPorts = opts.clientPorts ?? (await distinctFreePorts(size, new Set()));
    const routePorts = opts.routePorts ?? (await distinctFreePorts(size, new Set(clientPorts)));
    const nodes: NodeState[] = Array.from({ length: size }, (_, i) => ({
      index: i,
      name: opts.names?.[i] ?? `n${i + 1}`,
      clientPort: clientPorts[i],
      routePort: routePorts[i],
      storeDir: opts.storeDirs?.[i] ?? mkdtempSync(join(tmpdir(), `nats-cluster-n${i + 1}-`)),
      configFile: opts.configFiles?.[i],
      logFile: opts.logFiles?.[i],
      server: null,
    }));
    try {
      return await launch(nodes, opts);
    } catch (err) {
      lastError = err;
      const inUse = err instanceof NatsServerStartError && /address already in use/i.test(err.output);
      if (!inUse) throw err;
    }
  }
  throw lastError;
}

function argsFor(node: NodeState, all: NodeState[], opts: StartNatsClusterOptions): string[] {
  const routes = all
    .filter((n) => n !== node)
    .map((n) => `nats://${LOOPBACK}:${n.routePort}`)
    .join(',');
  const args = [`--cluster=nats://${LOOPBACK}:${node.routePort}`];
  if (routes) args.push(`--routes=${routes}`);
  if (!node.configFile)
    args.push(`--server_name=${node.name}`, `--cluster_name=${opts.clusterName ?? 'ipam'}`);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

async function startNode(node: NodeState, all: NodeState[], opts: StartNatsClusterOptions): Promise<void> {
  node.server = await startNatsServer({
    port: node.clientPort,
    storeDir: node.storeDir,
    configFile: node.configFile,
    // with a configuration file the store comes from NATS_STORE_DIR (nats-server refuses -sd and store_dir)
    storeDirArg: node.configFile === undefined,
    // read as a configuration value: quoted, any path is a string
    env: node.configFile ? { NATS_STORE_DIR: JSON.stringify(node.storeDir) } : undefined,
    logFile: node.logFile,
    readyTimeoutMs: opts.readyTimeoutMs,
    extraArgs: argsFor(node, all, opts),
  });
}

/** The server_name a node announces to clients. */
async function serverName(url: string): Promise<string | undefined> {
  const nc = await connect({ servers: url, timeout: 2000, reconnect: false, name: 'cluster-probe' });
  try {
    return nc.info?.server_name;
  } finally {
    await nc.close();
  }
}

async function launch(nodes: NodeState[], opts: StartNatsClusterOptions): Promise<NatsCluster> {
  const started = await Promise.allSettled(nodes.map((n) => startNode(n, nodes, opts)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.server?.stop()));
    throw failed.reason;
  }
  for (const n of nodes) n.name = (await serverName(`nats://${LOOPBACK}:${n.clientPort}`)) ?? n.name;

  const view = (n: NodeState): NatsClusterNode => ({
    index: n.index,
    get name() {
      return n.name;
    },
    url: `nats://${LOOPBACK}:${n.clientPort}`,
    clientPort: n.clientPort,
    routePort: n.routePort,
    storeDir: n.storeDir,
    get server() {
      return n.server;
    },
    isRunning: () => n.server?.isRunning() ?? false,
  });
  const views = nodes.map(view);
  const node = (i: number): NodeState => {
    const n = nodes[i];
    if (!n) throw new Error(`no node ${i} in a cluster of ${nodes.length}`);
    return n;
  };

  const cluster: NatsCluster = {
    nodes: views,
    urls: views.map((v) => v.url),
    servers: views.map((v) => v.url).join(','),
    byName: (name) => views.find((v) => v.name === name),
    async kill9(i) {
      await node(i).server?.kill9();
    },
    async stop(i) {
      await node(i).server?.stop();
    },
    async restart(i) {
      const n = node(i);
      await n.server?.stop();
      await startNode(n, nodes, opts);
    },
    async waitForJetStream(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      // through each running node in turn: every one must reach a metadata leader
      for (const n of nodes) {
        if (!n.server?.isRunning()) continue;
        for (;;) {
          let last: unknown;
          let nc: NatsConnection | null = null;
          try {
            nc = await connect({
              servers: `nats://${LOOPBACK}:${n.clientPort}`,
              timeout: 2000,
              reconnect: false,
              name: 'cluster-probe',
            });
            const jsm = await jetstreamManager(nc, { timeout: 2000 });
            await jsm.getAccountInfo();
            break;
          } catch (e) {
            last = e;
          } finally {
            await nc?.close().catch(() => undefined);
          }
          if (Date.now() > deadline) {
            throw new Error(
              `JetStream of the cluster did not answer through ${n.name} within ${timeoutMs} ms: ${String(last)}`,
            );
          }
          await sleep(100);
        }
      }
    },
    async stopAll() {
      await Promise.all(nodes.map((n) => n.server?.stop()));
    },
  };
  try {
    await cluster.waitForJetStream(opts.readyTimeoutMs ? Math.max(opts.readyTimeoutMs, 30_000) : 30_000);
  } catch (e) {
    await cluster.stopAll();
    throw e;
  }
  return cluster;
}
