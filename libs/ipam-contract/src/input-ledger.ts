/**
 * The stream's in-order rule, written once: which stored outcome answers which input, and when.
 *
 * - Inputs wait in stream order. The oldest waiting one is the *head*; only the head is decided (by
 *   the judge, on the state as of its turn) and only the head can be answered.
 * - An input's answer is the first outcome stored for it whose subject and text equal this build's
 *   decision. Any other outcome is refused: one that differs from the decision, one for an input
 *   already answered or never an input (stale), one that names no input (unreadable).
 * - An outcome read before its input is the head waits on that input and is judged at its turn.
 * - The instance that decides may *claim* the head: it applies its own decision at once (pipelining)
 *   and the entry waits for its stored copy, judged by the same rule.
 * - What is still waiting at the end of the stream is unanswered.
 *
 * Pure: no I/O. The hot path (an input, then its outcome as this build decides it) allocates one
 * entry per input and nothing per outcome; the queue is an array with two indexes, compacted now and
 * then.
 */

export type RefusalReason =
  /** its input's turn came and it is not this build's decision */
  | 'differs'
  /** its input is already answered, or it names no input read so far */
  | 'stale'
  /** it names no input at all (no numeric causation) */
  | 'unreadable';

/** waiting for its turn or its answer */
export const WAITING = 0;
/** decided and applied by this instance, waiting for its stored copy */
export const CLAIMED = 1;
/** answered, or given up at the end of the stream */
export const SETTLED = 2;

export interface LedgerEntry<I, A, R> {
  readonly seq: number;
  /** the input's subject */
  readonly subject: string;
  readonly input: I;
  /** this build's decision, made at the input's turn; null before */
  answer: A | null;
  answerSubject: string;
  answerText: string;
  /** WAITING, CLAIMED or SETTLED */
  state: number;
  /** outcomes read before its turn, in stream order */
  early: Array<Candidate<R>> | null;
}

interface Candidate<R> {
  seq: number;
  subject: string;
  text: string;
  ref: R;
}

/**
 * What the ledger asks of its owner. `decide` is called once per input, at its turn, after every
 * earlier input was applied; `textOf` must name the input (a causation field), so that equal text
 * identifies the input it answers.
 */
export interface LedgerJudge<I, A, R> {
  decide(seq: number, input: I): A;
  subjectOf(answer: A): string;
  textOf(answer: A): string;
  /**
   * `entry.answer` is stored as the outcome at `outcomeSeq`. `claimed`: this instance claimed the entry
   * earlier and has applied it already; otherwise apply it now.
   */
  accepted(entry: LedgerEntry<I, A, R>, outcomeSeq: number, ref: R, claimed: boolean): void;
  /** An outcome that is not an answer; `entry` is the input it names, when it is in the ledger. */
  refused(
    entry: LedgerEntry<I, A, R> | null,
    outcomeSeq: number,
    subject: string,
    text: string,
    ref: R,
    reason: RefusalReason,
  ): void;
}

export class InputLedger<I, A, R> {
  /** queue[done..head): applied (claimed or answered); queue[head..]: waiting, in stream order */
  private queue: Array<LedgerEntry<I, A, R>> = [];
  private done = 0;
  private head = 0;

  constructor(private readonly judge: LedgerJudge<I, A, R>) {}

  /** inputs not applied yet */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** inputs claimed by this instance whose stored copy has not been read yet */
  get unconfirmed(): number {
    let n = 0;
    for (let i = this.done; i < this.head; i++) if (this.queue[i].state === CLAIMED) n++;
    return n;
  }

  /** Whether some input claimed by this instance has no stored copy read yet (`unconfirmed > 0`, at once). */
  get anyUnconfirmed(): boolean {
    for (let i = this.done; i < this.head; i++) if (this.queue[i].state === CLAIMED) return true;
    return false;
  }

  /** The sequences of the inputs still waiting, oldest first. */
  unanswered(): number[] {
    const out: number[] = [];
    for (let i = this.head; i < this.queue.length; i++) out.push(this.queue[i].seq);
    return out;
  }

  /** The entry of the input at `seq` while it is waiting or claimed, else undefined. */
  find(seq: number): LedgerEntry<I, A, R> | undefined {
    const i = this.indexOf(seq);
    return i < 0 || this.queue[i].state === SETTLED ? undefined : this.queue[i];
  }

  /** An input read from the stream (in stream order). */
  push(seq: number, subject: string, input: I): void {
    this.queue.push({
      seq,
      subject,
      input,
      answer: null,
      answerSubject: '',
      answerText: '',
      state: WAITING,
      early: null,
    });
  }

  /**
   * The common case, without reading the outcome's body: an outcome equal to the answer of the oldest
   * claimed entry or of the head is that entry's answer. False when it is neither: call `offer`.
   */
  offerText(seq: number, subject: string, text: string, ref: R): boolean {
    if (this.done < this.head) {
      const c = this.queue[this.done];
      if (c.answerText === text && c.answerSubject === subject) {
        this.confirm(c, seq, ref);
        return true;
      }
    }
    const h = this.turn();
    if (h !== null && h.answerText === text && h.answerSubject === subject) {
      this.settleHead(h, seq, ref);
      this.turn();
      return true;
    }
    return false;
  }

  /** An outcome naming the input at `causation` (NaN when it names none). */
  offer(causation: number, seq: number, subject: string, text: string, ref: R): void {
    if (!Number.isInteger(causation)) {
      this.judge.refused(null, seq, subject, text, ref, 'unreadable');
      return;
    }
    const h = this.turn();
    const i = this.indexOf(causation);
    const e = i < 0 ? null : this.queue[i];
    if (e === null || e.state === SETTLED) {
      this.judge.refused(e, seq, subject, text, ref, 'stale');
    } else if (e.state === CLAIMED || e === h) {
      if (e.answerText === text && e.answerSubject === subject) {
        if (e.state === CLAIMED) this.confirm(e, seq, ref);
        else {
          this.settleHead(e, seq, ref);
          this.turn();
        }
      } else {
        this.judge.refused(e, seq, subject, text, ref, 'differs');
      }
    } else {
      (e.early ??= []).push({ seq, subject, text, ref });
    }
  }

  /**
   * The head, decided, taken by this instance to apply and publish its own decision; null when nothing
   * waits. The caller applies `answer` before its next call to the ledger.
   */
  claimHead(): LedgerEntry<I, A, R> | null {
    const h = this.turn();
    if (h === null) return null;
    h.state = CLAIMED;
    this.head++;
    return h;
  }

  /** The end of the stream: the head has no answer; it is dropped unapplied and returned. */
  skipHead(): LedgerEntry<I, A, R> | null {
    const h = this.turn();
    if (h === null) return null;
    h.state = SETTLED;
    this.head++;
    this.advanceDone();
    this.turn();
    return h;
  }

  /** Forgets everything (the stream is read again from its start). */
  clear(): void {
    this.queue = [];
    this.done = 0;
    this.head = 0;
  }

  /**
   * The head, decided, once every outcome that waited for it is judged (accepting as many heads in a
   * row as their waiting outcomes answer); null when nothing waits.
   */
  private turn(): LedgerEntry<I, A, R> | null {
    while (this.head < this.queue.length) {
      const h = this.queue[this.head];
      if (h.answer === null) {
        const answer = this.judge.decide(h.seq, h.input);
        h.answer = answer;
        h.answerSubject = this.judge.subjectOf(answer);
        h.answerText = this.judge.textOf(answer);
      }
      const early = h.early;
      if (early === null) return h;
      h.early = null;
      let k = 0;
      while (k < early.length) {
        const c = early[k];
        if (c.text === h.answerText && c.subject === h.answerSubject) break;
        this.judge.refused(h, c.seq, c.subject, c.text, c.ref, 'differs');
        k++;
      }
      if (k === early.length) return h;
      this.settleHead(h, early[k].seq, early[k].ref);
      for (k++; k < early.length; k++) {
        const c = early[k];
        this.judge.refused(h, c.seq, c.subject, c.text, c.ref, 'stale');
      }
    }
    return null;
  }

  private settleHead(h: LedgerEntry<I, A, R>, seq: number, ref: R): void {
    h.state = SETTLED;
    this.head++;
    this.judge.accepted(h, seq, ref, false);
    this.advanceDone();
  }

  private confirm(c: LedgerEntry<I, A, R>, seq: number, ref: R): void {
    c.state = SETTLED;
    this.judge.accepted(c, seq, ref, true);
    this.advanceDone();
  }

  /** Drops the settled entries at the front; compacts the array once they are most of it. */
  private advanceDone(): void {
    const q = this.queue;
    while (this.done < this.head && q[this.done].state === SETTLED) {
      q[this.done] = undefined as unknown as LedgerEntry<I, A, R>;
      this.done++;
    }
    if (this.done === q.length) {
      q.length = 0;
      this.done = 0;
      this.head = 0;
    } else if (this.done >= 4096 && this.done * 2 >= q.length) {
      this.queue = q.slice(this.done);
      this.head -= this.done;
      this.done = 0;
    }
  }

  /** Index of the entry at `seq` in queue[done..], or -1 (entries are sorted by seq). */
  private indexOf(seq: number): number {
    const q = this.queue;
    let lo = this.done;
    let hi = q.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = q[mid].seq;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
