/**
 * Progress of a long operation on stderr: a bar redrawn in place on a terminal; elsewhere (a log, a
 * pipe) a line at every 10 % step, and only when the work is long enough to be worth it.
 */
import type { Writer } from './io.js';

export interface Progress {
  /** `done` units of `total` are done; `detail` is shown after the percentage */
  update(done: number, detail?: string): void;
  /** clears the bar (a terminal) */
  finish(): void;
}

export interface ProgressOptions {
  /** without a terminal: print lines only when total is at least this (default 20 000) */
  minTotalForLines?: number;
  /** terminal redraw interval in ms (default 100) */
  redrawMs?: number;
  /** clock, for tests */
  now?: () => number;
}

const BAR_WIDTH = 30;

export function createProgress(
  w: Writer,
  label: string,
  total: number,
  opts: ProgressOptions = {},
): Progress {
  const now = opts.now ?? Date.now;
  const tty = w.isTTY === true;
  const minTotal = opts.minTotalForLines ?? 20_000;
  const redrawMs = opts.redrawMs ?? 100;
  let lastDraw = -Infinity;
  let lastPercent = -1;
  let lastStep = 0;
  let drawn = false;
  const percentOf = (done: number) => (total <= 0 ? 100 : Math.min(100, Math.floor((done * 100) / total)));
  return {
    update(done, detail) {
      const percent = percentOf(done);
      if (tty) {
        const t = now();
        if (percent === lastPercent && t - lastDraw < redrawMs) return;
        lastDraw = t;
        lastPercent = percent;
        const filled = Math.round((percent / 100) * BAR_WIDTH);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
        w.write(`\r\x1b[2K${label} [${bar}] ${String(percent).padStart(3)}%${detail ? ` ${detail}` : ''}`);
        drawn = true;
        return;
      }
      if (total < minTotal) return;
      const step = Math.floor(percent / 10) * 10;
      if (step > lastStep) {
        lastStep = step;
        w.write(`${label}: ${step}%${detail ? ` (${detail})` : ''}\n`);
      }
    },
    finish() {
      if (tty && drawn) w.write('\r\x1b[2K');
    },
  };
}

export interface Spinner {
  /** stops the spinner and clears its line; safe to call more than once */
  stop(): void;
}

export interface SpinnerOptions {
  /** first frame after this many ms, so quick answers draw nothing (default 200) */
  delayMs?: number;
  /** frame interval in ms (default 100) */
  intervalMs?: number;
}

const FRAMES = ['|', '/', '-', '\\'];

/**
 * A spinner with `label` on `w` while something is awaited, only when `w` is a terminal (never in a
 * pipe, a log file or a test's captured output); redrawn in place, and the line cleared when stopped.
 */
export function startSpinner(w: Writer, label: string, opts: SpinnerOptions = {}): Spinner {
  if (w.isTTY !== true) return { stop() {} };
  let frame = 0;
  let drawn = false;
  let interval: NodeJS.Timeout | undefined;
  const draw = () => {
    w.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
    drawn = true;
  };
  const delay = setTimeout(() => {
    draw();
    interval = setInterval(draw, opts.intervalMs ?? 100);
    interval.unref();
  }, opts.delayMs ?? 200);
  delay.unref();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(delay);
      if (interval) clearInterval(interval);
      if (drawn) w.write('\r\x1b[2K');
    },
  };
}
