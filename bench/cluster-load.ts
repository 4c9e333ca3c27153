/**
 * A steady load of inputs for the NATS cluster runs (bench/cluster.bench.ts and test/cluster/): a fixed
 * number of inputs per second, each published with its own Nats-Msg-Id through libs/ipam-client, as a
 * well-behaved upstream publisher would: a publish that gets no PubAck in time (or no answer at all) is
 * published again with the same id until it is acknowledged, so an input the stream stored before the
 * PubAck was lost is stored once (the retry is answered as a duplicate with the first sequence).
 *
 * It records when each input was first sent and acknowledged, and answers "how long after time T did
 * the first publish sent after T get its PubAck" (the publish outage after a node was killed at T).
 *
 * Not a benchmark itself: only files named `*.bench.ts` are run.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { IpamClient } from '../libs/ipam-client/src/index.js';
import type { InputSubject } from '../libs/ipam-contract/src/index.js';

export interface LoadInput {
  subject: InputSubject;
  body: unknown;
  msgId: string;
}

export interface SteadyLoadOptions {
  client: IpamClient;
  /** inputs per second */
  ratePerSec: number;
  /** the i-th input (0-based) */
  input: (i: number) => LoadInput;
  /** PubAck timeout of one attempt; default 2000 ms */
  ackTimeoutMs?: number;
  /** give an input up (counted in `gaveUp`) after publishing it for this long; default 120 s */
  giveUpAfterMs?: number;
  /** pause after an input's first failed attempt, doubled after each further one up to 8 times it; default 100 ms */
  retryPauseMs?: number;
}

export interface AckedInput {
  msgId: string;
  seq: number;
  /** performance.now() when first sent, and when acknowledged */
  sentAt: number;
  ackedAt: number;
  attempts: number;
  /** the acknowledged attempt was answered as a duplicate (an earlier attempt had been stored) */
  duplicate: boolean;
}

const encoder = new TextEncoder();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SteadyLoad {
  /** acknowledged inputs, by msg id */
  readonly acked = new Map<string, AckedInput>();
  /** msg ids given up on (never acknowledged within giveUpAfterMs) */
  readonly gaveUp: string[] = [];
  /** failed attempts, by the error's code (or message) */
  readonly failures = new Map<string, number>();
  /** performance.now() of every acknowledged attempt, with when that attempt was sent */
  private readonly ackTimes: Array<{ sent: number; acked: number }> = [];
  private issued = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private abandoned = false;

  constructor(private readonly o: SteadyLoadOptions) {}

  /** How many inputs were issued so far. */
  get count(): number {
    return this.issued;
  }

  /** Starts issuing inputs at the rate. */
  start(): void {
    if (this.timer) return;
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 5);
  }

  private tick(): void {
    if (this.stopping) return;
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.o.ratePerSec);
    while (this.issued < due) {
      const i = this.issued++;
      const p = this.publishOne(this.o.input(i)).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async publishOne(input: LoadInput): Promise<void> {
    const ackTimeoutMs = this.o.ackTimeoutMs ?? 2000;
    const firstSent = performance.now();
    const deadline = firstSent + (this.o.giveUpAfterMs ?? 120_000);
    const data = encoder.encode(JSON.stringify(input.body));
    for (let attempt = 1; ; attempt++) {
      const sent = performance.now();
      try {
        const r = await this.o.client.publish(input.subject, data, {
          msgId: input.msgId,
          timeoutMs: ackTimeoutMs,
        });
        const ackedAt = performance.now();
        this.ackTimes.push({ sent, acked: ackedAt });
        this.acked.set(input.msgId, {
          msgId: input.msgId,
          seq: r.seq,
          sentAt: firstSent,
          ackedAt,
          attempts: attempt,
          duplicate: r.duplicate,
        });
        return;
      } catch (e) {
        const code = (e as { code?: string }).code ?? (e as Error).message;
        this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
        if (this.abandoned) return;
        if (performance.now() > deadline) {
          this.gaveUp.push(input.msgId);
          return;
        }
        // backing off (a refusal comes back at once: no responders while the stream has no leader)
        const pause = this.o.retryPauseMs ?? 100;
        await sleep(Math.min(pause * 2 ** (attempt - 1), pause * 8));
      }
    }
  }

  /** Stops issuing new inputs and waits for every one issued to be acknowledged (or given up). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Stops at once: no new inputs, no further attempts (for a run that failed midway). */
  abandon(): void {
    this.stopping = true;
    this.abandoned = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The number of inputs acknowledged so far. */
  ackedCount(): number {
    return this.acked.size;
  }

  /**
   * Milliseconds from `t` (performance.now()) to the first PubAck of a publish sent at or after `t`,
   * or null while there is none.
   */
  firstAckAfter(t: number): number | null {
    let best: number | null = null;
    for (const a of this.ackTimes) {
      if (a.sent >= t && (best === null || a.acked < best)) best = a.acked;
    }
    return best === null ? null : best - t;
  }

  /** The longest time between consecutive PubAcks within [from, to] (performance.now() times). */
  longestAckGap(from: number, to: number): number {
    const times = this.ackTimes
      .map((a) => a.acked)
      .filter((x) => x >= from && x <= to)
      .sort((a, b) => a - b);
    let gap = 0;
    let prev = from;
    for (const x of times) {
      gap = Math.max(gap, x - prev);
      prev = x;
    }
    return Math.max(gap, to - prev);
  }

  /** Failed attempts as "code x n, ..." (for logs). */
  failureSummary(): string {
    return [...this.failures].map(([k, n]) => `${k} x ${n}`).join(', ') || 'none';
  }
}

/** The outcome subjects (what the service publishes), as a core NATS subscriber sees them. */
const OUTCOME_SUBJECT =
  /^ipam\.(pool\.(accepted|rejected|historyrestored)|ip\.(allocated|released|rejected)|lb\.rejected)$/;

/**
 * When outcomes were published (performance.now() as a core NATS subscriber on `ipam.>` received them),
 * to see how long the service stopped deciding around a kill. Bounded by the run's size.
 */
export class OutcomeTimes {
  private readonly times: number[] = [];
  private readonly sub: Subscription;

  constructor(nc: NatsConnection) {
    this.sub = nc.subscribe('ipam.>', {
      callback: (err, msg) => {
        if (!err && OUTCOME_SUBJECT.test(msg.subject)) this.times.push(performance.now());
      },
    });
  }

  /** ms from `t` to the first outcome after it, or null while there is none */
  firstAfter(t: number): number | null {
    const x = this.times.find((v) => v >= t);
    return x === undefined ? null : x - t;
  }

  /** The longest time without an outcome within [from, to]. */
  longestGap(from: number, to: number): number {
    let gap = 0;
    let prev = from;
    for (const x of this.times) {
      if (x < from || x > to) continue;
      gap = Math.max(gap, x - prev);
      prev = x;
    }
    return Math.max(gap, to - prev);
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
