#!/usr/bin/env node
/**
 * `ipam`: the operator CLI (apps/cli). Runs the compiled CLI from dist/; build it with `npm run build`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');

if (!existsSync(mainJs)) {
  process.stderr.write(`ipam: ${mainJs} does not exist; run "npm run build" in ${root} first\n`);
  process.exit(1);
}

const { main } = await import(pathToFileURL(mainJs).href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; should anything still hold the event loop, do not hang on it.
setTimeout(() => process.exit(code), 3000).unref();
