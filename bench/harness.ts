/**
 * The contract between a benchmark module and `npm run bench` (scripts/bench.mjs), plus small timing
 * helpers. Not a benchmark itself: only files named `*.bench.ts` are discovered.
 *
 * A benchmark module is `bench/<name>.bench.ts`. Built to `dist/bench/<name>.bench.js`, it is run on its
 * own in a fresh `node --expose-gc` process and does its work at import time. It reports each figure as
 * soon as it is measured by printing one line to stdout:
 *
 *     @@bench-figure {"name":"fooPerSec","value":123456,"unit":"op/s","target":{"op":">=","value":1e5},"note":"..."}
 *
 * (see `Figure` below; `report()` writes it). Any other stdout line is passed through; progress goes to
 * stderr (`log()`). The module exits 0 when it is done; a non-zero exit (an uncaught error, a failed
 * sanity check) makes the whole run fail. A missed target never fails the run: it is only shown.
 * Figure names are the keys of the merged `--json` object, so keep them unique across modules.
 */

export const FIGURE_MARKER = '@@bench-figure ';

/**
 * A bound on a figure: `value`, or with `of`, `value` times the figure named `of` reported by the same
 * benchmark in the same run (e.g. {op: '<=', value: 2, of: 'rawP99ms'}: at most twice the raw loop's).
 */
export interface Target {
  op: '>=' | '<=';
  value: number;
  of?: string;
}

export interface Figure {
  /** camelCase key in the merged JSON, e.g. fillV4Slash16PerSec */
  name: string;
  value: number;
  /** display unit, e.g. "alloc/s", "bytes", "x" */
  unit: string;
  /** shown as ✓/✗ next to the value (✓ when every one is met); never fails the run */
  target?: Target | Target[];
  /** a same-run reference figure (shown, never judged) */
  baseline?: boolean;
  /** one line of context for the table */
  note?: string;
}

export function report(figure: Figure): void {
  process.stdout.write(`${FIGURE_MARKER}${JSON.stringify(figure)}\n`);
}

/** Progress for a person watching; stderr so that stdout stays machine-readable. */
export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/** Monotonic time in nanoseconds, as a number (fine for intervals below ~100 days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

type GcFn = () => void;

/** A full collection; the module must run under `node --expose-gc` (bench.mjs does that). */
export function fullGc(): void {
  const gc = (globalThis as { gc?: GcFn }).gc;
  if (typeof gc !== 'function') throw new Error('global.gc is missing: run with node --expose-gc');
  // twice: the first pass may leave objects that only become unreachable after finalization
  gc();
  gc();
}

/** Heap in use after a full collection, in bytes. */
export function settledHeapUsed(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** Formats a number for notes: 1234567 -> "1,234,567". */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`sanity check failed: ${message}`);
}

/** mulberry32: a small seeded PRNG, so generated workloads are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
