/**
 * Reading the IPAM stream back as an auditor would: every input event, every outcome event, grouped by
 * the input they answer (`causationSeq`). Used by the service tests to check "exactly one outcome per
 * input" over the whole stream and to fold allocations/releases by hand.
 *
 *   const audit = new StreamAudit(nc, 'IPAM_T1');
 *   const seq = await publishInput(js, 'ipam.lb.requested', lb, 'id-1');
 *   const outcome = await audit.waitForOutcome(seq);
 *   await audit.waitUntilAllAnswered();   // every input stored so far has an outcome
 *   audit.assertExactlyOnce();            // ... and exactly one
 *
 * Only the contract's subjects are known here (plus the service's documented additions); the service's
 * own code is deliberately not imported, so a wrong subject in the service shows up as a failure.
 */
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Input subjects of the contract, and the two additions the service documents. */
export const INPUT_SUBJECTS: readonly string[] = [
  'ipam.pool.created',
  'ipam.pool.updated',
  'ipam.pool.deleted',
  'ipam.lb.requested',
  'ipam.lb.deleted',
  'ipam.ip.releaserequested',
  'ipam.pool.historyimported',
];

/** Outcome subjects of the contract, and the two additions the service documents. */
export const OUTCOME_SUBJECTS: readonly string[] = [
  'ipam.pool.accepted',
  'ipam.pool.rejected',
  'ipam.ip.allocated',
  'ipam.lb.rejected',
  'ipam.ip.released',
  'ipam.pool.historyrestored',
  'ipam.ip.rejected',
];

export interface StreamRecord {
  seq: number;
  subject: string;
  msgId: string | null;
  data: Uint8Array;
}

export interface OutcomeRecord extends StreamRecord {
  /** the parsed body */
  body: Record<string, unknown> & { causationSeq: number; causationId: string | null };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * Publishes one input event into the stream and returns its stream sequence. `body` is sent as JSON
 * unless it is already bytes; `msgId` becomes the Nats-Msg-Id header.
 */
export async function publishInput(
  js: JetStreamClient,
  subject: string,
  body: unknown,
  msgId?: string,
): Promise<number> {
  const data = body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body));
  const pa = await js.publish(subject, data, msgId === undefined ? {} : { msgID: msgId });
  if (pa.duplicate) throw new Error(`publish of ${subject} with id ${msgId} was a duplicate (seq ${pa.seq})`);
  return pa.seq;
}

export interface Holdings {
  /** "pool|ip" -> load balancer */
  byAddress: Map<string, string>;
  /** load balancer -> "pool|ip" */
  byLoadBalancer: Map<string, string>;
  /** every inconsistency found while folding (an address given twice, a release of something not held, ...) */
  violations: string[];
}

export class StreamAudit {
  private jsm: JetStreamManager | null = null;
  /** every message read so far, by sequence */
  readonly records = new Map<number, StreamRecord>();
  private readTo = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
  ) {}

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc, { timeout: 5000 });
    return this.jsm;
  }

  async lastSeq(): Promise<number> {
    const jsm = await this.manager();
    return (await jsm.streams.info(this.stream)).state.last_seq;
  }

  /** Reads every message stored since the last refresh (the stream is never purged: no gaps expected). */
  async refresh(): Promise<void> {
    const jsm = await this.manager();
    const last = await this.lastSeq();
    const want: number[] = [];
    for (let s = this.readTo + 1; s <= last; s++) want.push(s);
    const chunk = 64;
    for (let i = 0; i < want.length; i += chunk) {
      const got = await Promise.all(
        want.slice(i, i + chunk).map(async (seq) => {
          const m = await jsm.streams.getMessage(this.stream, { seq });
          if (!m) throw new Error(`stream ${this.stream} has no message at seq ${seq} (deleted or purged?)`);
          const id = m.header?.get('Nats-Msg-Id');
          return {
            seq: m.seq,
            subject: m.subject,
            msgId: id ? id : null,
            data: m.data,
          } satisfies StreamRecord;
        }),
      );
      for (const r of got) this.records.set(r.seq, r);
    }
    this.readTo = Math.max(this.readTo, last);
  }

  /** Input events, in stream order. */
  inputs(): StreamRecord[] {
    return [...this.records.values()]
      .filter((r) => INPUT_SUBJECTS.includes(r.subject))
      .sort((a, b) => a.seq - b.seq);
  }

  /** Outcome events, in stream order. Throws on an outcome whose body is not JSON with a numeric causationSeq. */
  outcomes(): OutcomeRecord[] {
    const out: OutcomeRecord[] = [];
    for (const r of [...this.records.values()].sort((a, b) => a.seq - b.seq)) {
      if (!OUTCOME_SUBJECTS.includes(r.subject)) continue;
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(r.data));
      } catch {
        throw new Error(`outcome at seq ${r.seq} (${r.subject}) is not JSON: ${decoder.decode(r.data)}`);
      }
      const b = body as { causationSeq?: unknown };
      if (typeof b !== 'object' || b === null || typeof b.causationSeq !== 'number') {
        throw new Error(
          `outcome at seq ${r.seq} (${r.subject}) has no numeric causationSeq: ${decoder.decode(r.data)}`,
        );
      }
      out.push({ ...r, body: body as OutcomeRecord['body'] });
    }
    return out;
  }

  /** Messages on subjects that are neither inputs nor outcomes. */
  strays(): StreamRecord[] {
    return [...this.records.values()].filter(
      (r) => !INPUT_SUBJECTS.includes(r.subject) && !OUTCOME_SUBJECTS.includes(r.subject),
    );
  }

  /** Outcomes grouped by the sequence of the input they answer. */
  outcomesByCause(): Map<number, OutcomeRecord[]> {
    const by = new Map<number, OutcomeRecord[]>();
    for (const o of this.outcomes()) {
      const list = by.get(o.body.causationSeq) ?? [];
      list.push(o);
      by.set(o.body.causationSeq, list);
    }
    return by;
  }

  /** Input sequences with no outcome yet. */
  unanswered(): number[] {
    const by = this.outcomesByCause();
    return this.inputs()
      .map((i) => i.seq)
      .filter((s) => !by.has(s));
  }

  /** Waits for the outcome of the input at `seq` and returns it (the first one stored). */
  async waitForOutcome(seq: number, timeoutMs = 10_000): Promise<OutcomeRecord> {
    return waitFor(
      `the outcome of input seq ${seq} in stream ${this.stream}`,
      async () => {
        await this.refresh();
        return this.outcomesByCause().get(seq)?.[0];
      },
      { timeoutMs, intervalMs: 15 },
    );
  }

  /**
   * Waits until every input stored so far has at least one outcome, then until the stream has been
   * quiet for `settleMs` (so that a late second outcome would be seen), and refreshes.
   */
  async waitUntilAllAnswered({ timeoutMs = 30_000, settleMs = 300 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      const missing = this.unanswered();
      if (missing.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms: ${missing.length} of ${this.inputs().length} inputs have no outcome ` +
            `(seqs ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''})`,
        );
      }
      await sleep(50);
    }
    let last = await this.lastSeq();
    let quietSince = Date.now();
    while (Date.now() - quietSince < settleMs) {
      await sleep(Math.min(100, settleMs));
      const now = await this.lastSeq();
      if (now !== last) {
        last = now;
        quietSince = Date.now();
      }
    }
    await this.refresh();
  }

  /**
   * Every problem with "exactly one outcome per input": inputs with none or several outcomes, outcomes
   * that answer no input (or a later message), outcome causationId differing from the input's msg id,
   * and messages on unknown subjects.
   */
  exactlyOnceProblems(): string[] {
    const problems: string[] = [];
    const inputs = new Map(this.inputs().map((i) => [i.seq, i]));
    const by = this.outcomesByCause();
    for (const [seq, input] of inputs) {
      const list = by.get(seq) ?? [];
      if (list.length === 0) problems.push(`input seq ${seq} (${input.subject}) has no outcome`);
      if (list.length > 1) {
        problems.push(
          `input seq ${seq} (${input.subject}) has ${list.length} outcomes: ` +
            list.map((o) => `seq ${o.seq} ${o.subject} ${decoder.decode(o.data)}`).join(' | '),
        );
      }
      for (const o of list) {
        if (o.seq <= seq)
          problems.push(`outcome seq ${o.seq} answers input seq ${seq}, which comes after it`);
        if (o.body.causationId !== input.msgId) {
          problems.push(
            `outcome seq ${o.seq} has causationId ${JSON.stringify(o.body.causationId)}, ` +
              `input seq ${seq} has msg id ${JSON.stringify(input.msgId)}`,
          );
        }
      }
    }
    for (const [cause, list] of by) {
      if (!inputs.has(cause)) {
        problems.push(
          `outcome(s) ${list.map((o) => o.seq).join(', ')} answer seq ${cause}, which is not an input`,
        );
      }
    }
    for (const s of this.strays()) problems.push(`message seq ${s.seq} on unexpected subject ${s.subject}`);
    return problems;
  }

  /** Throws, listing every problem, unless each input has exactly one outcome. */
  assertExactlyOnce(): void {
    const problems = this.exactlyOnceProblems();
    if (problems.length > 0) {
      throw new Error(
        `exactly-once violated in stream ${this.stream}:\n  ${problems.slice(0, 50).join('\n  ')}`,
      );
    }
  }

  /**
   * Folds ipam.ip.allocated / ipam.ip.released by hand, in the order of the inputs they answer (the
   * first outcome of each input counts), and reports any address held by two load balancers, any load
   * balancer holding two addresses, and any release of an address that was not held by that load balancer.
   */
  foldHoldings(): Holdings {
    const byAddress = new Map<string, string>();
    const byLoadBalancer = new Map<string, string>();
    const violations: string[] = [];
    const firsts = [...this.outcomesByCause().entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, list]) => list[0]);
    for (const o of firsts) {
      const b = o.body as Record<string, unknown>;
      if (o.subject === 'ipam.ip.allocated') {
        const lb = String(b.loadBalancer);
        const addr = `${String(b.ipPool)}|${String(b.ip)}`;
        const holder = byAddress.get(addr);
        const held = byLoadBalancer.get(lb);
        if (holder !== undefined && holder !== lb) {
          violations.push(`seq ${o.seq}: ${addr} allocated to ${lb} while held by ${holder}`);
        }
        if (held !== undefined && held !== addr) {
          violations.push(`seq ${o.seq}: ${lb} allocated ${addr} while it holds ${held}`);
        }
        byAddress.set(addr, lb);
        byLoadBalancer.set(lb, addr);
      } else if (o.subject === 'ipam.ip.released') {
        const lb = String(b.loadBalancer);
        const addr = `${String(b.ipPool)}|${String(b.ip)}`;
        if (byAddress.get(addr) !== lb || byLoadBalancer.get(lb) !== addr) {
          violations.push(
            `seq ${o.seq}: ${lb} released ${addr}, but ${addr} is held by ${byAddress.get(addr) ?? 'nobody'} ` +
              `and ${lb} holds ${byLoadBalancer.get(lb) ?? 'nothing'}`,
          );
        }
        byAddress.delete(addr);
        byLoadBalancer.delete(lb);
      }
    }
    return { byAddress, byLoadBalancer, violations };
  }
}
