/**
 * NATS or JetStream out of reach for now (a request timed out, nobody answered a JetStream API request,
 * the connection dropped), as opposed to a refusal such as a stream configured otherwise: the first is
 * worth waiting out, the second is not.
 */
import { ConnectionError, NoRespondersError, TimeoutError } from '@nats-io/transport-node';

export function isUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError || e instanceof ConnectionError)
      return true;
    e = e.cause;
  }
  return false;
}

export interface UntilAvailableOptions {
  /** called before each wait, with the error and the wait in ms */
  onRetry?: (err: unknown, delayMs: number, attempt: number) => void;
  /** true when the caller is shutting down: stop retrying and throw the last error */
  stopped?: () => boolean;
  /** first wait (ms), doubled up to maxDelayMs; defaults 250 and 5000 */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** The wait before retry number `attempt` (1, 2, ...): `firstMs` doubled each time, at most `maxMs`. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 16));
}

/** Runs `attempt` until it succeeds, retrying with backoff while it fails with isUnavailable. */
export async function untilAvailable<T>(
  attempt: () => Promise<T>,
  opts: UntilAvailableOptions = {},
): Promise<T> {
  const first = opts.firstDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 5000;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isUnavailable(e) || opts.stopped?.()) throw e;
      const delayMs = backoffMs(n, first, max);
      opts.onRetry?.(e, delayMs, n);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
