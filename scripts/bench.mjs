#!/usr/bin/env node
/**
 * npm run bench [-- [name ...] [--json] [--no-build] [--timeout=SECONDS]]
 *
 * Builds (npm run build, quietly), then runs every benchmark module dist/bench/<name>.bench.js (built
 * from bench/<name>.bench.ts) in its own fresh `node --expose-gc` process, one after the other, and
 * prints a table of figures per benchmark with its targets (✓ met / ✗ missed).
 *
 *   name ...        run only these benchmarks (e.g. `npm run bench -- domain`)
 *   --json          also print all figures merged into ONE JSON object {figureName: value} as the very
 *                   last line of stdout
 *   --no-build      use dist/ as it is
 *   --timeout=S     kill a benchmark that runs longer than S seconds (default 600)
 *
 * Adding a benchmark is adding a file: bench/<name>.bench.ts runs at import and reports each figure as
 * a stdout line `@@bench-figure {json}` (see bench/harness.ts for the format and helpers).
 *
 * Exit status: 1 when a benchmark crashes (non-zero exit, killed, no figures, malformed figure line) or
 * the build fails, 2 for bad arguments. A missed target is shown, never a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Keep in sync with FIGURE_MARKER in bench/harness.ts. */
const FIGURE_MARKER = '@@bench-figure ';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distBench = path.join(root, 'dist', 'bench');
const srcBench = path.join(root, 'bench');

function usage(message) {
  process.stderr.write(
    `bench: ${message}\nusage: npm run bench -- [name ...] [--json] [--no-build] [--timeout=SECONDS]\n`,
  );
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------
// arguments

const args = process.argv.slice(2);
let json = false;
let build = true;
let timeoutS = 600;
const wanted = [];
for (const a of args) {
  if (a === '--json') json = true;
  else if (a === '--no-build') build = false;
  else if (a.startsWith('--timeout=')) {
    timeoutS = Number(a.slice('--timeout='.length));
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage(`bad ${a}`);
  } else if (a === '--help' || a === '-h') usage('help');
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else wanted.push(a);
}

// ---------------------------------------------------------------------------------------------------
// build

if (build) {
  const t0 = Date.now();
  process.stderr.write('bench: npm run build ... ');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write('failed\n');
    process.stderr.write(
      `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}\n`,
    );
    process.stderr.write(
      'bench: not benchmarking a failed build (use --no-build to run what is in dist/ anyway)\n',
    );
    process.exit(1);
  }
  process.stderr.write(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}

// ---------------------------------------------------------------------------------------------------
// discovery: dist/bench/<name>.bench.js whose source bench/<name>.bench.ts still exists (no stale output)

const available = existsSync(distBench)
  ? readdirSync(distBench)
      .filter((f) => f.endsWith('.bench.js'))
      .map((f) => f.slice(0, -'.bench.js'.length))
      .filter((name) => existsSync(path.join(srcBench, `${name}.bench.ts`)))
      .sort()
  : [];
if (available.length === 0)
  usage(`no benchmarks found in ${path.relative(root, distBench)} (expected <name>.bench.js)`);
for (const name of wanted) {
  if (!available.includes(name)) usage(`no benchmark "${name}"; available: ${available.join(', ')}`);
}
const selected = wanted.length > 0 ? available.filter((n) => wanted.includes(n)) : available;

// ---------------------------------------------------------------------------------------------------
// running one benchmark

/** A figure's targets as a list (a figure has none, one, or a list of them). */
function targetsOf(f) {
  if (f.target === undefined) return [];
  return Array.isArray(f.target) ? f.target : [f.target];
}

/** Validates one figure line; returns an error text or null. */
function invalidFigure(f) {
  if (typeof f !== 'object' || f === null) return 'not an object';
  if (typeof f.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.]*$/.test(f.name)) return 'bad name';
  if (typeof f.value !== 'number' || !Number.isFinite(f.value))
    return `value of ${f.name} is not a finite number`;
  if (f.target !== undefined) {
    for (const t of targetsOf(f)) {
      if (
        typeof t !== 'object' ||
        t === null ||
        (t.op !== '>=' && t.op !== '<=') ||
        typeof t.value !== 'number' ||
        (t.of !== undefined && typeof t.of !== 'string')
      ) {
        return `target of ${f.name} must be {op: ">=" | "<=", value: number, of?: figureName} or a list of them`;
      }
    }
  }
  return null;
}

function runBenchmark(name) {
  return new Promise((resolve) => {
    const file = path.join(distBench, `${name}.bench.js`);
    const started = Date.now();
    const figures = [];
    const problems = [];
    process.stderr.write(
      `\nbench: ${name} (node --expose-gc ${path.relative(root, file)}); load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
    );
    const child = spawn(process.execPath, ['--expose-gc', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      problems.push(`killed after the ${timeoutS} s timeout`);
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.startsWith(FIGURE_MARKER)) {
        process.stdout.write(`  | ${line}\n`);
        return;
      }
      let figure;
      try {
        figure = JSON.parse(line.slice(FIGURE_MARKER.length));
      } catch {
        problems.push(`malformed figure line: ${line}`);
        return;
      }
      const bad = invalidFigure(figure);
      if (bad) problems.push(`malformed figure (${bad}): ${line}`);
      else figures.push(figure);
    });
    let exit = null;
    let closed = false;
    const finish = () => {
      if (exit === null || !closed) return;
      clearTimeout(timer);
      const [code, signal] = exit;
      if (signal && !timedOut) problems.push(`killed by ${signal}`);
      else if (code !== 0) problems.push(`exited with status ${code}`);
      if (figures.length === 0 && problems.length === 0) problems.push('reported no figures');
      resolve({ name, figures, problems, seconds: (Date.now() - started) / 1000 });
    };
    child.on('error', (e) => {
      problems.push(`could not start: ${e.message}`);
      exit = [null, null];
      closed = true;
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = [code, signal];
      finish();
    });
    lines.on('close', () => {
      closed = true;
      finish();
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// printing

function formatValue(v) {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/**
 * The bound of a target: its value, or with `of` its value times the figure of that name in the same
 * benchmark's results (`figures`); NaN when that figure is missing.
 */
function boundOf(t, figures) {
  if (t.of === undefined) return t.value;
  const other = figures.find((g) => g.name === t.of);
  return other ? t.value * other.value : Number.NaN;
}

/** ✓ every target met, ✗ one missed, ? one whose reference figure is missing. */
function verdict(f, figures) {
  const targets = targetsOf(f);
  if (targets.length === 0) return f.baseline ? 'ref' : '';
  let result = '✓';
  for (const t of targets) {
    const bound = boundOf(t, figures);
    if (Number.isNaN(bound)) {
      if (result === '✓') result = '?';
      continue;
    }
    if (!(t.op === '>=' ? f.value >= bound : f.value <= bound)) result = '✗';
  }
  return result;
}

function formatTargets(f, figures) {
  return targetsOf(f)
    .map((t) =>
      t.of === undefined
        ? `${t.op} ${formatValue(t.value)}`
        : `${t.op} ${formatValue(t.value)} x ${t.of} (${formatValue(boundOf(t, figures))})`,
    )
    .join(', ');
}

function printTable(result) {
  const head = ['figure', 'value', 'unit', 'target', '', 'note'];
  const rows = result.figures.map((f) => [
    f.name,
    formatValue(f.value),
    f.unit ?? '',
    f.target ? formatTargets(f, result.figures) : f.baseline ? '(baseline)' : '',
    verdict(f, result.figures),
    f.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `  ${cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')}`.trimEnd();
  const status = result.problems.length === 0 ? 'ok' : 'FAILED';
  process.stdout.write(`\n${result.name}: ${status} in ${result.seconds.toFixed(1)} s\n`);
  if (rows.length > 0) {
    process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
  }
  for (const p of result.problems) process.stdout.write(`  !! ${p}\n`);
}

// ---------------------------------------------------------------------------------------------------
// main

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const cpus = os.cpus();
process.stdout.write(
  `bench: node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, load average ${load()}; running ${selected.join(', ')}\n`,
);

const results = [];
for (const name of selected) {
  const result = await runBenchmark(name);
  results.push(result);
  printTable(result);
}

const judged = results.flatMap((r) => r.figures.filter((f) => f.target).map((f) => verdict(f, r.figures)));
const met = judged.filter((v) => v === '✓').length;
const failed = results.filter((r) => r.problems.length > 0);
process.stdout.write(
  `\nbench: targets met ${met}/${judged.length}; ${failed.length === 0 ? 'all benchmarks ran' : `FAILED: ${failed.map((r) => r.name).join(', ')}`}; load average now ${load()}\n`,
);

if (json) {
  const merged = {};
  for (const r of results) {
    for (const f of r.figures) {
      let key = f.name;
      if (Object.hasOwn(merged, key)) {
        key = `${r.name}.${f.name}`;
        process.stderr.write(
          `bench: figure name ${f.name} is reported twice; the one from ${r.name} is ${key}\n`,
        );
      }
      merged[key] = f.value;
    }
  }
  process.stdout.write(`${JSON.stringify(merged)}\n`);
}

process.exitCode = failed.length > 0 ? 1 : 0;
