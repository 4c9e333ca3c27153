/**
 * Replay verification: re-decide every input of a stream with this build, starting from an empty
 * state, and compare each decision with the outcome the stream recorded for that input.
 *
 * One pass over the stored events, with the allocator's own rule: inputs wait in stream order, the
 * first outcome stored for an input (JSON with a numeric causationSeq below its own sequence) is its
 * answer, and answers are applied in the order of the inputs they answer. When the oldest waiting
 * input has its answer, it is decided on the current state and compared with the recorded text; the
 * state then evolves with the recorded outcome (this build's decision when they match, the recorded
 * body when they differ), so a divergence is reported where it happens and does not hide or cause
 * later ones; the report names the first. Inputs still waiting at the end of the stream are unanswered.
 */
import { decide, evolve, initialState, IpamCommand, IpamEvent } from '../../ipam-domain/src/index.js';
import type { StoredEvent, WireCodec } from '../../ipam-contract/src/index.js';

export interface Divergence {
  /** stream sequence of the input */
  inputSeq: number;
  inputSubject: string;
  /** what the stream recorded (subject and body), or null when the input has no outcome */
  recorded: { seq: number; subject: string; body: unknown } | null;
  /** what this build decides */
  decided: { subject: string; body: unknown };
}

export interface VerifyReport {
  inputs: number;
  matched: number;
  /** inputs with no recorded outcome at the end of the stream (not yet answered) */
  unanswered: number[];
  firstDivergence: Divergence | null;
  divergences: number;
}


/** The first recorded outcome of an input, as read from the stream. */
interface Recorded {
  seq: number;
  subject: string;
  type: IpamEvent['type'];
  text: string;
  /** JSON.parse(text) */
  body: unknown;
}

/** An input waiting for its turn (its own answer, or the answers of the inputs before it). */
interface Pending {
  seq: number;
  subject: string;
  command: IpamCommand;
  /** its first recorded outcome, once read */
  recorded: Recorded | null;
  /** this build's decision on the state as of its turn (computed once it is the oldest) */
  decided: IpamEvent | null;
  decidedSubject: string;
  decidedText: string;
}

const decoder = new TextDecoder();

/** A verification fed one stored event at a time, in stream order (see {@link verifyReplay}). */
export interface Verifier {
  /** the next stored event of the stream */
  push(e: StoredEvent): void;
  /** the end of the stream: settles the inputs still waiting and returns the report (call once) */
  finish(): VerifyReport;
}

/**
 * Verifies a stream read once, in stream order, by `read()` (called once).
 * `onProgress(seq)` is called at every 10,000th event read.
 */
export async function verifyReplay(
  read: () => AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  codec: WireCodec,
  onProgress?: (seq: number) => void,
): Promise<VerifyReport> {
  const verifier = createVerifier(codec, onProgress);
  const source = read();
  if (Symbol.asyncIterator in source) for await (const e of source) verifier.push(e);
  else for (const e of source) verifier.push(e);
  return verifier.finish();
}

/**
 * The verification of {@link verifyReplay}, fed event by event: `push` every stored event in stream
 * order, then `finish`. `onProgress(seq)` is called at every 10,000th event pushed.
 */
export function createVerifier(codec: WireCodec, onProgress?: (seq: number) => void): Verifier {
  const state = initialState();
  const report: VerifyReport = {
    inputs: 0,
    matched: 0,
    unanswered: [],
    firstDivergence: null,
    divergences: 0,
  };
  /** the inputs not decided yet, in stream order: queue[head..] (sorted by seq) */
  let queue: Pending[] = [];
  let head = 0;

  /** The oldest waiting input's decision on the current state (once per input: decide is pure). */
  const decideHead = (p: Pending): IpamEvent => {
    if (p.decided === null) {
      const decided = decide(p.command, state)[0];
      p.decided = decided;
      p.decidedSubject = codec.subjectOf(decided);
      p.decidedText = JSON.stringify(decided.data);
    }
    return p.decided;
  };

  /** Drops the oldest waiting input. */
  const pop = (): void => {
    queue[head] = undefined as unknown as Pending;
    head++;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head >= 4096 && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  /** The oldest waiting input is answered (or, at the end, has no answer): compare, evolve, drop it. */
  const settleHead = (p: Pending): void => {
    const decided = decideHead(p);
    pop();
    const rec = p.recorded;
    if (rec === null) {
      report.unanswered.push(p.seq);
      return;
    }
    if (rec.subject === p.decidedSubject && rec.text === p.decidedText) {
      report.matched++;
      evolve(state, decided);
      return;
    }
    report.divergences++;
    if (report.firstDivergence === null) {
      report.firstDivergence = {
        inputSeq: p.seq,
        inputSubject: p.subject,
        recorded: { seq: rec.seq, subject: rec.subject, body: rec.body },
        decided: { subject: p.decidedSubject, body: decided.data },
      };
    }
    // Go on from what the stream recorded: that is the state later inputs were decided on.
    if (typeof rec.body === 'object') evolve(state, { type: rec.type, data: rec.body } as IpamEvent);
  };

  /** Decides every waiting input whose answer is known and whose turn it is. */
  const drain = (): void => {
    while (head < queue.length && queue[head].recorded !== null) settleHead(queue[head]);
  };

  /** The waiting input at `seq`, or undefined (never an input, or already decided). */
  const waiting = (seq: number): Pending | undefined => {
    let lo = head;
    let hi = queue.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = queue[mid].seq;
      if (s === seq) return queue[mid];
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };

  const onOutcome = (e: StoredEvent, type: IpamEvent['type']): void => {
    const text = decoder.decode(e.data);
    // The common case: the answer to the oldest waiting input, exactly as this build decides it. Text
    // equal to this build's JSON has this build's causationSeq: that input's sequence (checked), which is
    // below e.seq; and the oldest waiting input has no answer yet, so this is its first one.
    if (head < queue.length) {
      const oldest = queue[head];
      const decided = decideHead(oldest);
      if (
        text === oldest.decidedText &&
        e.subject === oldest.decidedSubject &&
        (decided.data as { causationSeq?: unknown }).causationSeq === oldest.seq
      ) {
        report.matched++;
        pop();
        evolve(state, decided);
        drain();
        return;
      }
    }
    // Otherwise read it as the service reads an outcome: JSON with a numeric causationSeq, answering
    // an earlier input; the first such outcome of an input is its answer.
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return;
    }
    const causation = (body as { causationSeq?: unknown } | null)?.causationSeq;
    if (typeof causation !== 'number' || causation >= e.seq) return;
    const p = waiting(causation);
    if (p === undefined || p.recorded !== null) return;
    p.recorded = { seq: e.seq, subject: e.subject, type, text, body };
    if (p === queue[head]) drain();
  };

  let n = 0;
  const onEvent = (e: StoredEvent): void => {
    if (onProgress && ++n % 10_000 === 0) onProgress(e.seq);
    const type = codec.eventType(e.subject);
    if (type !== null) onOutcome(e, type);
    const command = codec.toCommand(e);
    if (command === null) return;
    report.inputs++;
    queue.push({
      seq: e.seq,
      subject: e.subject,
      command,
      recorded: null,
      decided: null,
      decidedSubject: '',
      decidedText: '',
    });
  };
  return {
    push: onEvent,
    finish: () => {
      // The end of the stream: every input still waiting is decided in order; those with no answer
      // are unanswered (and the state does not evolve with them).
      while (head < queue.length) settleHead(queue[head]);
      return report;
    },
  };
}
