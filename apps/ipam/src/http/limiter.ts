/**
 * A bound on expensive reads (a pool's status as of a past sequence, which replays the stream; a list
 * of every pool with its full status): at most `running` at once, at most `queued` waiting in order;
 * beyond that, an answer at once (HTTP 503 `Unavailable` with `Retry-After`, or a NATS error reply)
 * rather than a queue that grows with the load. Decisions never wait on these.
 */
import { ApiProblem } from './problem.js';

export class BusyError extends Error {
  constructor(
    readonly what: string,
    readonly running: number,
    readonly queued: number,
    readonly retryAfterS: number,
  ) {
    super(
      `the service is already answering ${running} ${what} and ${queued} more wait; try again in ${retryAfterS} s`,
    );
    this.name = 'BusyError';
  }
}

/** A writable HTTP answer (express's Response). */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    /** what is limited, in words ("as-of pool reads") */
    readonly what: string,
    readonly running: number,
    readonly queued: number,
    /** what Retry-After says (s) */
    readonly retryAfterS = 1,
  ) {}

  /** Runs `fn` within the limit; throws BusyError when the queue is full. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.active >= this.running) {
      if (this.waiting.length >= this.queued) {
        throw new BusyError(this.what, this.running, this.queued, this.retryAfterS);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // the slot passes to the next one waiting, or is freed
      if (next) next();
      else this.active--;
    }
  }

  /** `run` for HTTP: beyond the limit, 503 Unavailable with Retry-After (nothing else was done). */
  async http<T>(res: HeaderSink, fn: () => Promise<T> | T): Promise<T> {
    try {
      return await this.run(fn);
    } catch (e) {
      if (!(e instanceof BusyError)) throw e;
      res.setHeader('Retry-After', String(e.retryAfterS));
      throw new ApiProblem('Unavailable', e.message, { retryAfter: e.retryAfterS });
    }
  }
}

/** Lets the event loop run what waits (decisions, acks, PubAcks) before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
