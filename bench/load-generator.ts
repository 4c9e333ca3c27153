/**
 * The load generator of bench/service.bench.ts: one code path for the service and for the raw loop (over
 * NATS) and for the HTTP API, so their figures differ by what they measure and not by how.
 *
 * Honest measurement, the rules it keeps:
 *
 * - a request's latency runs from its own timestamp, performance.now() taken just before its send call
 *   (the publish, or http.request), to the arrival of its outcome (the subscription's callback, or the
 *   end of the HTTP answer); never from a batch's start or from when it was due;
 * - the generator keeps to a schedule (request i is due at t0 + i / rate) and sends whatever is due when
 *   it wakes, so a stall of its own shows up as late sends (counted) rather than as a slower rate;
 * - its own event-loop stalls are measured beside the latencies (monitorEventLoopDelay at a 1 ms
 *   resolution, the timer's period taken off), because a stall of the generator is added to every
 *   latency in flight during it: a p99 is only as good as the generator's own p99 stall under it;
 * - bounded: a count of requests and a deadline; it stops by itself and says what never came back.
 *
 * Not a benchmark itself: only files named `*.bench.ts` are run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The generator's own event-loop stalls over a phase, in ms beyond the 1 ms timer's period. */
export interface Stalls {
  p99Ms: number;
  maxMs: number;
}

const RESOLUTION_MS = 1;

/** Starts watching this process's event loop; stop() gives the stalls since. */
export function watchStalls(): { stop(): Stalls } {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  return {
    stop(): Stalls {
      h.disable();
      // the histogram holds whole intervals between the timer's runs (min ~1 ms): the stall is the excess
      const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
      return h.count === 0 ? { p99Ms: 0, maxMs: 0 } : { p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
    },
  };
}

export interface SteadyLoadOptions {
  /** requests per second */
  ratePerSec: number;
  /** how many requests */
  count: number;
  /** the whole phase (sending and waiting for the outcomes) ends after this long at the latest */
  timeoutMs: number;
}

export interface SteadyResult {
  /** latencies of the answered requests, ms, sorted */
  latencies: number[];
  p50: number;
  p99: number;
  max: number;
  sent: number;
  answered: number;
  /** requests answered by a failure (an error, a non-2xx status), by reason */
  failures: Map<string, number>;
  /** requests sent that got neither an outcome nor a failure before the deadline (sent < count: the
   *  deadline came before the last sends) */
  unanswered: number;
  /** the most requests sent and not yet ended at one time (a transport that falls behind shows here) */
  maxInFlight: number;
  /** sends more than 2 ms behind their schedule, and the largest delay */
  lateSends: number;
  maxLateMs: number;
  stalls: Stalls;
  /** first send to last outcome, s */
  seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A steady load: `run(send)` calls send(i) for i = 0..count-1 on the schedule; the transport reports
 * each request's end with `arrived(i)` (its outcome) or `failed(i, reason)`. Only the first report of a
 * request counts.
 */
export class SteadyLoad {
  private readonly sentAt: Float64Array;
  private readonly endedAt: Float64Array;
  private readonly ok: Uint8Array;
  private readonly failures = new Map<string, number>();
  private ended = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly o: SteadyLoadOptions) {
    this.sentAt = new Float64Array(o.count).fill(Number.NaN);
    this.endedAt = new Float64Array(o.count).fill(Number.NaN);
    this.ok = new Uint8Array(o.count);
  }

  /** Request i's outcome is here (call it first thing in the callback: the time is taken now). */
  arrived(i: number): void {
    const now = performance.now();
    if (!(i >= 0 && i < this.o.count) || !Number.isNaN(this.endedAt[i]) || Number.isNaN(this.sentAt[i]))
      return;
    this.endedAt[i] = now;
    this.ok[i] = 1;
    this.end();
  }

  /** Request i ended without its outcome. */
  failed(i: number, reason: string): void {
    if (!(i >= 0 && i < this.o.count) || !Number.isNaN(this.endedAt[i])) return;
    this.endedAt[i] = performance.now();
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    this.end();
  }

  private end(): void {
    this.ended++;
    if (this.ended === this.o.count) this.wake?.();
  }

  async run(send: (i: number) => void): Promise<SteadyResult> {
    const { ratePerSec, count, timeoutMs } = this.o;
    const stalls = watchStalls();
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    let lateSends = 0;
    let maxLateMs = 0;
    let maxInFlight = 0;
    let i = 0;
    while (i < count && performance.now() < deadline) {
      const due = Math.min(count, Math.floor(((performance.now() - t0) * ratePerSec) / 1000) + 1);
      for (; i < due; i++) {
        const late = performance.now() - (t0 + (i * 1000) / ratePerSec);
        if (late > 2) lateSends++;
        if (late > maxLateMs) maxLateMs = late;
        this.sentAt[i] = performance.now();
        try {
          send(i);
        } catch (e) {
          this.failed(i, (e as Error).message);
        }
        if (i + 1 - this.ended > maxInFlight) maxInFlight = i + 1 - this.ended;
      }
      if (i < count) await sleep(Math.max(0, t0 + (i * 1000) / ratePerSec - performance.now()));
    }
    const sent = i;
    if (this.ended < sent) {
      const left = deadline - performance.now();
      if (left > 0) {
        await new Promise<void>((res) => {
          const timer = setTimeout(res, left);
          this.wake = () => {
            clearTimeout(timer);
            res();
          };
          if (this.ended >= sent) this.wake();
        });
        this.wake = null;
      }
    }
    const stalled = stalls.stop();
    const latencies: number[] = [];
    let last = t0;
    for (let k = 0; k < sent; k++) {
      if (this.ok[k] === 1) {
        latencies.push(this.endedAt[k] - this.sentAt[k]);
        if (this.endedAt[k] > last) last = this.endedAt[k];
      }
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies.length === 0
        ? Number.NaN
        : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
    const n = latencies.length;
    return {
      latencies,
      p50:
        n === 0
          ? Number.NaN
          : n % 2 === 1
            ? latencies[n >> 1]
            : (latencies[(n >> 1) - 1] + latencies[n >> 1]) / 2,
      p99: at(0.99),
      max: n === 0 ? Number.NaN : latencies[n - 1],
      sent,
      answered: n,
      failures: new Map(this.failures),
      unanswered: sent - this.ended,
      maxInFlight,
      lateSends,
      maxLateMs,
      stalls: stalled,
      seconds: (last - t0) / 1000,
    };
  }
}

/** One line on how a steady phase went, for the figures' notes. */
export function describe(r: SteadyResult, ratePerSec: number): string {
  const failed = [...r.failures.values()].reduce((a, b) => a + b, 0);
  const parts = [
    `${r.answered}/${r.sent} answered at ${ratePerSec}/s, the last ${r.seconds.toFixed(2)} s after the first send`,
    `max ${r.maxInFlight} in flight`,
  ];
  if (failed > 0) parts.push(`${failed} failed (${[...r.failures.keys()].join(', ')})`);
  if (r.unanswered > 0) parts.push(`${r.unanswered} unanswered`);
  parts.push(`${r.lateSends} sends >2 ms late (max ${r.maxLateMs.toFixed(1)} ms)`);
  return parts.join('; ');
}
