#!/usr/bin/env node
/** Before the tests: the integration tests start their own nats-server, so it must be installed. */
import { spawnSync } from 'node:child_process';

const bin = process.env.NATS_SERVER_BIN || 'nats-server';
const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
if (r.error || r.status !== 0) {
  process.stderr.write(
    `npm test: the integration tests need nats-server (JetStream) on PATH, and "${bin}" was not found.\n` +
      'Install it with one of:\n' +
      '  apt-get install nats-server        (Debian/Ubuntu; .ci/run does this)\n' +
      '  brew install nats-server           (macOS)\n' +
      'or set NATS_SERVER_BIN to its path.\n',
  );
  process.exit(1);
}
process.stderr.write(`npm test: using ${r.stdout.trim()}\n`);
