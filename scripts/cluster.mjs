#!/usr/bin/env node
/**
 * `npm run cluster`: a three-node NATS cluster with JetStream on loopback, for a developer: the
 * configurations of deploy/nats/cluster/ (n1.conf, n2.conf, n3.conf) as they are, each node's store
 * under ./.data/cluster/nN and its log in ./.data/cluster/nN.log. Once JetStream has a metadata leader it
 * prints the NATS_URL to use (stdout), e.g.
 *
 *   NATS_URL=nats://127.0.0.1:14232,nats://127.0.0.1:14233,nats://127.0.0.1:14234
 *
 * and runs until Ctrl-C (SIGINT) or SIGTERM, which stops the three. A node that exits (you may kill one
 * with -9 to watch a failover; its pid is printed) is reported; the others go on. Run the service with
 * `NATS_URL=... IPAM_STREAM_REPLICAS=3 npm start`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configDir = join(root, 'deploy', 'nats', 'cluster');
const dataDir = join(root, '.data', 'cluster');
const binary = process.env.NATS_SERVER_BIN || 'nats-server';
const say = (msg) => process.stderr.write(`ipam cluster: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The client and route addresses of a configuration file (its top-level `listen` and cluster `listen`). */
function addresses(file) {
  const text = readFileSync(file, 'utf8');
  const client = /^listen:\s*([\d.]+):(\d+)\s*$/m.exec(text);
  const route = /^\s+listen:\s*([\d.]+):(\d+)\s*$/m.exec(text);
  const name = /^server_name:\s*(\S+)\s*$/m.exec(text);
  if (!client || !route || !name) throw new Error(`${file}: no server_name, listen or cluster listen line`);
  return {
    name: name[1],
    host: client[1],
    port: Number(client[2]),
    routeHost: route[1],
    routePort: Number(route[2]),
  };
}

function listening(host, port) {
  return new Promise((res) => {
    const s = createConnection({ host, port });
    const done = (ok) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function logSince(file, offset) {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  say(`"${binary}" was not found. Install it with one of:`);
  say('  apt-get install nats-server        (Debian/Ubuntu)');
  say('  brew install nats-server           (macOS)');
  say('or set NATS_SERVER_BIN to its path.');
  process.exit(1);
}

const nodes = ['n1', 'n2', 'n3'].map((id) => {
  const config = join(configDir, `${id}.conf`);
  return { id, config, ...addresses(config), store: join(dataDir, id), log: join(dataDir, `${id}.log`) };
});

const busy = [];
for (const n of nodes) {
  if (await listening(n.host, n.port)) busy.push(`${n.host}:${n.port} (clients of ${n.name})`);
  if (await listening(n.routeHost, n.routePort))
    busy.push(`${n.routeHost}:${n.routePort} (routes of ${n.name})`);
}
if (busy.length > 0) {
  say(`already in use: ${busy.join(', ')}; is a cluster running already? (change the ports in ${configDir})`);
  process.exit(1);
}

let stopping = false;
for (const n of nodes) {
  mkdirSync(n.store, { recursive: true });
  n.logOffset = existsSync(n.log) ? statSync(n.log).size : 0;
  const fd = openSync(n.log, 'a');
  n.child = spawn(binary, ['-c', n.config], {
    cwd: root,
    // nats-server reads the variable as a configuration value: quoted, any path is a string
    env: { ...process.env, NATS_STORE_DIR: JSON.stringify(n.store) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  n.exited = new Promise((res) =>
    n.child.once('exit', (code, signal) => {
      n.gone = true;
      if (!stopping) {
        say(
          `${n.name} (pid ${n.child.pid}) exited (${signal ?? `code ${code}`}); the others go on. Log: ${n.log}`,
        );
        if (nodes.every((m) => m.gone)) process.exit(1);
      }
      res();
    }),
  );
}

async function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping the three servers`);
  for (const n of nodes) if (!n.gone) n.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const n of nodes) if (!n.gone) n.child.kill('SIGKILL');
  }, 10_000);
  await Promise.all(nodes.map((n) => n.exited));
  clearTimeout(timer);
  say('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));

// ready: each server says so and takes connections, and each knows the JetStream metadata leader
const deadline = Date.now() + 60_000;
for (const n of nodes) {
  for (;;) {
    const text = logSince(n.log, n.logOffset);
    if (
      /Server is ready/.test(text) &&
      /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/.test(text) &&
      (await listening(n.host, n.port))
    )
      break;
    if (n.gone || Date.now() > deadline) {
      say(`${n.name} did not become ready; the end of ${n.log}:\n${text.split('\n').slice(-15).join('\n')}`);
      await stopAll('failed start');
    }
    await sleep(100);
  }
}

const url = nodes.map((n) => `nats://${n.host}:${n.port}`).join(',');
say(`three nats-servers with JetStream (${version.stdout.trim()}), cluster "ipam":`);
for (const n of nodes) {
  say(`  ${n.name}  ${n.host}:${n.port}  pid ${n.child.pid}  store ${n.store}  log ${n.log}`);
}
say(`run the service on it:  NATS_URL=${url} IPAM_STREAM_REPLICAS=3 npm start`);
say('Ctrl-C stops the three');
process.stdout.write(`NATS_URL=${url}\n`);
