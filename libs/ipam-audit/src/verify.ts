/**
 * Replay verification: fold a stream with this build as the service folds it, from an empty state, and
 * report what it made of every input and every stored outcome.
 *
 * The fold is the service's: an InputLedger whose judge decides each input with this build at its turn
 * and accepts as its answer only the first stored outcome equal to that decision; the state evolves
 * with accepted answers only. So a forged outcome is refused (counted, the first one reported) and the
 * verification goes on. An input whose stored outcomes were all refused is a divergence (this build
 * answers it differently: another build's decision, or a forgery not answered yet); one with no stored
 * outcome at all is unanswered.
 */
import { evolve, initialState, IpamCommand, IpamEvent, IpamState } from '../../ipam-domain/src/index.js';
import {
  InputLedger,
  WAITING,
  type LedgerEntry,
  type LedgerJudge,
  type RefusalReason,
  type StoredEvent,
  type WireCodec,
} from '../../ipam-contract/src/index.js';
import { decideAnswer } from './decide-answer.js';

export interface Divergence {
  /** stream sequence of the input */
  inputSeq: number;
  inputSubject: string;
  /** the first outcome the stream recorded for it (refused) */
  recorded: { seq: number; subject: string; body: unknown } | null;
  /** what this build decides */
  decided: { subject: string; body: unknown };
}

/** A stored outcome the fold did not accept. */
export interface Refusal {
  seq: number;
  subject: string;
  /** the body as JSON, or its text when it is not JSON */
  body: unknown;
  reason: RefusalReason;
  /** the input it names, when that input was still waiting for its answer */
  inputSeq: number | null;
  /** this build's answer to that input, when it was decided */
  decided: { subject: string; body: unknown } | null;
}

export interface VerifyReport {
  inputs: number;
  /** inputs answered by an outcome equal to this build's decision */
  matched: number;
  /** inputs with no recorded outcome at the end of the stream (not yet answered) */
  unanswered: number[];
  firstDivergence: Divergence | null;
  /** inputs whose recorded outcomes were all refused */
  divergences: number;
  /** stored outcomes refused (forged, another build's, late copies, unreadable) */
  refused: number;
  firstRefused: Refusal | null;
}

const decoder = new TextDecoder();

/** A verification fed one stored event at a time, in stream order (see {@link verifyReplay}). */
export interface Verifier {
  /** the next stored event of the stream */
  push(e: StoredEvent): void;
  /** the end of the stream: settles the inputs still waiting and returns the report (call once) */
  finish(): VerifyReport;
  /** the folded state: accepted answers only */
  readonly state: IpamState;
}

export interface VerifyOptions {
  /** called at every 10,000th event pushed, with its sequence */
  onProgress?: (seq: number) => void;
  /** every accepted outcome, in the order the fold applies them (the input order) */
  onAccepted?: (outcome: StoredEvent, answer: IpamEvent) => void;
}

/** Verifies a stream read once, in stream order, by `read()` (called once). */
export async function verifyReplay(
  read: () => AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  codec: WireCodec,
  onProgress?: (seq: number) => void,
): Promise<VerifyReport> {
  const verifier = createVerifier(codec, { onProgress });
  const source = read();
  if (Symbol.asyncIterator in source) for await (const e of source) verifier.push(e);
  else for (const e of source) verifier.push(e);
  return verifier.finish();
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The causationSeq an outcome's body names, or NaN. */
export function causationOf(text: string): number {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return NaN;
  }
  const c = (body as { causationSeq?: unknown } | null)?.causationSeq;
  return typeof c === 'number' ? c : NaN;
}

type Entry = LedgerEntry<IpamCommand, IpamEvent, StoredEvent>;

class VerifyFold implements LedgerJudge<IpamCommand, IpamEvent, StoredEvent> {
  readonly state = initialState();
  readonly report: VerifyReport = {
    inputs: 0,
    matched: 0,
    unanswered: [],
    firstDivergence: null,
    divergences: 0,
    refused: 0,
    firstRefused: null,
  };
  readonly ledger = new InputLedger<IpamCommand, IpamEvent, StoredEvent>(this);
  /** the first refused outcome of each input still waiting, while it waits */
  private readonly refusedFor = new Map<number, StoredEvent>();

  constructor(
    private readonly codec: WireCodec,
    private readonly onAccepted: VerifyOptions['onAccepted'],
  ) {}

  decide(_seq: number, command: IpamCommand): IpamEvent {
    return decideAnswer(command, this.state);
  }

  subjectOf(answer: IpamEvent): string {
    return this.codec.subjectOf(answer);
  }

  textOf(answer: IpamEvent): string {
    return JSON.stringify(answer.data);
  }

  accepted(entry: Entry, _outcomeSeq: number, outcome: StoredEvent): void {
    const answer = entry.answer as IpamEvent;
    this.report.matched++;
    evolve(this.state, answer);
    if (this.refusedFor.size > 0) this.refusedFor.delete(entry.seq);
    this.onAccepted?.(outcome, answer);
  }

  refused(
    entry: Entry | null,
    seq: number,
    subject: string,
    text: string,
    outcome: StoredEvent,
    reason: RefusalReason,
  ): void {
    const r = this.report;
    r.refused++;
    const waiting = entry !== null && entry.state === WAITING;
    if (waiting && !this.refusedFor.has(entry.seq)) this.refusedFor.set(entry.seq, outcome);
    if (r.firstRefused !== null) return;
    r.firstRefused = {
      seq,
      subject,
      body: parsed(text),
      reason,
      inputSeq: waiting ? entry.seq : null,
      decided:
        waiting && entry.answer !== null ? { subject: entry.answerSubject, body: entry.answer.data } : null,
    };
  }

  push(e: StoredEvent): void {
    if (this.codec.eventType(e.subject) !== null) {
      const text = decoder.decode(e.data);
      if (!this.ledger.offerText(e.seq, e.subject, text, e))
        this.ledger.offer(causationOf(text), e.seq, e.subject, text, e);
      return;
    }
    const command = this.codec.toCommand(e);
    if (command === null) return;
    this.report.inputs++;
    this.ledger.push(e.seq, e.subject, command);
  }

  /** The end of the stream: every input still waiting is dropped, unapplied, in order. */
  finish(): VerifyReport {
    const r = this.report;
    for (let e = this.ledger.skipHead(); e !== null; e = this.ledger.skipHead()) {
      const recorded = this.refusedFor.get(e.seq);
      if (recorded === undefined) {
        r.unanswered.push(e.seq);
        continue;
      }
      this.refusedFor.delete(e.seq);
      r.divergences++;
      r.firstDivergence ??= {
        inputSeq: e.seq,
        inputSubject: e.subject,
        recorded: {
          seq: recorded.seq,
          subject: recorded.subject,
          body: parsed(decoder.decode(recorded.data)),
        },
        decided: { subject: e.answerSubject, body: (e.answer as IpamEvent).data },
      };
    }
    return r;
  }
}

/** The verification of {@link verifyReplay}, fed event by event: `push` each stored event, then `finish`. */
export function createVerifier(codec: WireCodec, options: VerifyOptions = {}): Verifier {
  const fold = new VerifyFold(codec, options.onAccepted);
  const onProgress = options.onProgress;
  let n = 0;
  return {
    push: onProgress
      ? (e) => {
          if (++n % 10_000 === 0) onProgress(e.seq);
          fold.push(e);
        }
      : (e) => fold.push(e),
    finish: () => fold.finish(),
    get state() {
      return fold.state;
    },
  };
}
