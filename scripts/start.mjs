#!/usr/bin/env node
/**
 * `npm start`: runs the IPAM service.
 *
 * - With NATS_URL set, it only connects there (credentials may be written in it,
 *   nats://user:pass@host:4222; it is shown with the password as ***).
 * - With NATS_URL unset and a server already listening on 127.0.0.1:4222, it uses that one.
 * - Otherwise it starts a local `nats-server -js` (from PATH) with its store under ./.data/nats,
 *   says so, and stops it when the service stops.
 * Builds first when the compiled service is missing or older than the sources (IPAM_START_NO_BUILD=1:
 * runs what dist/ holds, as a container or a test that built already does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = join(root, 'dist/apps/ipam/src/main.js');
/** Hides the password of every URL in a text (from dist/libs/ipam-client once built). */
let redactUrls = (text) => text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s,"'<>]*@/g, '$1***@');
const say = (msg) => process.stderr.write(`ipam start: ${redactUrls(String(msg))}\n`);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  if (process.env.IPAM_START_NO_BUILD === '1' && existsSync(mainJs)) return;
  const sources = Math.max(newestSource(join(root, 'apps')), newestSource(join(root, 'libs')));
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= sources) return;
  say('building (npm run build)');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the build failed');
    process.exit(r.status ?? 1);
  }
}

async function main() {
  buildIfNeeded();
  const launcher = await import(join(root, 'dist/libs/jetstream/src/nats-server.launcher.js'));
  ({ redactUrls } = await import(join(root, 'dist/libs/ipam-client/src/servers.js')));
  const env = { ...process.env };
  let server = null;
  if (env.NATS_URL) {
    say(`connecting to NATS_URL=${redactUrls(env.NATS_URL)}`);
  } else {
    if (await launcher.isListening('127.0.0.1', 4222)) {
      say('NATS_URL is not set; using the server already listening on nats://127.0.0.1:4222');
    } else if (!launcher.findNatsServer()) {
      say('NATS_URL is not set and nothing listens on 127.0.0.1:4222, and nats-server is not installed.');
      say('Install it with one of:');
      say('  apt-get install nats-server        (Debian/Ubuntu)');
      say('  brew install nats-server           (macOS)');
      say("  docker compose up nats             (this repository's docker-compose.yml)");
      say('or point NATS_URL at a JetStream-enabled server.');
      process.exit(1);
    } else {
      const storeDir = join(root, '.data/nats');
      mkdirSync(storeDir, { recursive: true });
      server = await launcher.startNatsServer({
        port: 4222,
        storeDir,
        logFile: join(root, '.data/nats-server.log'),
      });
      say(
        `NATS_URL is not set: started a local nats-server with JetStream on ${server.url} (store ${storeDir}, log .data/nats-server.log)`,
      );
    }
    env.NATS_URL = server ? server.url : 'nats://127.0.0.1:4222';
  }
  const child = spawn(process.execPath, [mainJs], { env, stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', async (code, signal) => {
    if (server) {
      say('stopping the local nats-server');
      await server.stop();
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main().catch((err) => {
  say(`failed: ${err?.stack ?? err}`);
  process.exit(1);
});
