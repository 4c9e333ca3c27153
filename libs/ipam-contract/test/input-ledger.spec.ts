/**
 * InputLedger with a toy judge: an input is a word, its answer is `<seq>:<word>#<answers applied so far>`
 * (so a decision depends on the state, like the domain's), and applying an answer counts it.
 */
import { InputLedger, type LedgerEntry, type LedgerJudge, type RefusalReason } from '../src/index.js';
import { prng } from '../../../test/support/prng.js';

interface Answer {
  subject: string;
  text: string;
}

type Entry = LedgerEntry<string, Answer, string>;

class ToyJudge implements LedgerJudge<string, Answer, string> {
  /** answers applied, in order: "<input seq>@<outcome seq>" */
  readonly applied: string[] = [];
  readonly refusals: Array<{ input: number | null; outcome: number; reason: RefusalReason; ref: string }> =
    [];
  readonly decided: number[] = [];
  readonly confirmed: number[] = [];

  decide(seq: number, word: string): Answer {
    this.decided.push(seq);
    return { subject: 'toy.answered', text: `${seq}:${word}#${this.applied.length}` };
  }
  subjectOf(a: Answer): string {
    return a.subject;
  }
  textOf(a: Answer): string {
    return a.text;
  }
  accepted(e: Entry, outcomeSeq: number, _ref: string, claimed: boolean): void {
    if (claimed) this.confirmed.push(e.seq);
    else this.applied.push(`${e.seq}@${outcomeSeq}`);
  }
  refused(
    e: Entry | null,
    outcomeSeq: number,
    _s: string,
    _t: string,
    ref: string,
    reason: RefusalReason,
  ): void {
    this.refusals.push({ input: e?.seq ?? null, outcome: outcomeSeq, reason, ref });
  }
}

/** A ledger fed like a stream: every call takes the next sequence. */
function stream() {
  const judge = new ToyJudge();
  const ledger = new InputLedger(judge);
  let seq = 0;
  return {
    judge,
    ledger,
    input(word: string): number {
      ledger.push(++seq, 'toy.input', word);
      return seq;
    },
    /** an outcome with this text naming `causation`, through the fast path first as readers do */
    outcome(causation: number, text: string, ref = 'real', subject = 'toy.answered'): number {
      const at = ++seq;
      if (!ledger.offerText(at, subject, text, ref)) ledger.offer(causation, at, subject, text, ref);
      return at;
    },
  };
}

describe('inputs answered in stream order', () => {
  it('given two inputs, when each is answered with this build decision, then both apply in order', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    const oa = s.outcome(a, `${a}:a#0`);
    const ob = s.outcome(b, `${b}:b#1`);
    expect(s.judge.applied).toEqual([`${a}@${oa}`, `${b}@${ob}`]);
    expect(s.judge.refusals).toEqual([]);
    expect(s.ledger.waiting).toBe(0);
  });

  it('given an input, then it is decided only at its turn, on the state after the inputs before it', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    s.outcome(a, `${a}:a#0`);
    expect(s.judge.decided).toEqual([a, b]);
    // b was decided after a was applied: its answer counts one applied answer
    s.outcome(b, `${b}:b#1`);
    expect(s.judge.applied).toHaveLength(2);
  });
});

describe('the first valid outcome counts', () => {
  it('given a forged outcome right after its input, then it is refused and the true one still answers', () => {
    const s = stream();
    const a = s.input('a');
    const forged = s.outcome(a, `${a}:FORGED#0`, 'forger');
    expect(s.judge.applied).toEqual([]);
    expect(s.judge.refusals).toEqual([{ input: a, outcome: forged, reason: 'differs', ref: 'forger' }]);
    expect(s.ledger.unanswered()).toEqual([a]);
    const real = s.outcome(a, `${a}:a#0`);
    expect(s.judge.applied).toEqual([`${a}@${real}`]);
  });

  it('given an answered input, when a later outcome names it (even an identical copy), then it is stale', () => {
    const s = stream();
    const a = s.input('a');
    s.outcome(a, `${a}:a#0`);
    const copy = s.outcome(a, `${a}:a#0`, 'late copy');
    const other = s.outcome(a, `${a}:other#0`, 'late other');
    expect(s.judge.refusals).toEqual([
      { input: null, outcome: copy, reason: 'stale', ref: 'late copy' },
      { input: null, outcome: other, reason: 'stale', ref: 'late other' },
    ]);
    expect(s.judge.applied).toHaveLength(1);
  });

  it('an outcome of the right text on another subject is refused', () => {
    const s = stream();
    const a = s.input('a');
    s.outcome(a, `${a}:a#0`, 'x', 'toy.other');
    expect(s.judge.refusals).toMatchObject([{ input: a, reason: 'differs' }]);
  });

  it('an outcome naming no input (no causation, a sequence never an input, one after it) is refused', () => {
    const s = stream();
    const a = s.input('a');
    const none = s.outcome(NaN, 'garbage', 'none');
    const future = s.outcome(a + 5, `${a + 5}:x#0`, 'future');
    expect(s.judge.refusals).toEqual([
      { input: null, outcome: none, reason: 'unreadable', ref: 'none' },
      { input: null, outcome: future, reason: 'stale', ref: 'future' },
    ]);
    expect(s.ledger.unanswered()).toEqual([a]);
  });
});

describe('outcomes that arrive early wait for the inputs before theirs', () => {
  it('given two inputs, when the second is answered first, then it applies only after the first', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    // b's answer as the decider wrote it, on the state after a
    const ob = s.outcome(b, `${b}:b#1`);
    expect(s.judge.applied).toEqual([]);
    expect(s.judge.decided).toEqual([a]);
    const oa = s.outcome(a, `${a}:a#0`);
    expect(s.judge.applied).toEqual([`${a}@${oa}`, `${b}@${ob}`]);
  });

  it('given a forged and then a true outcome waiting for one input, then at its turn the forged is refused and the true one counts', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    const forged = s.outcome(b, `${b}:FORGED#1`, 'forger');
    const ob = s.outcome(b, `${b}:b#1`);
    const after = s.outcome(b, `${b}:b#1`, 'copy');
    expect(s.judge.refusals).toEqual([]);
    s.outcome(a, `${a}:a#0`);
    expect(s.judge.applied).toEqual([expect.stringMatching(/^1@/), `${b}@${ob}`]);
    expect(s.judge.refusals).toEqual([
      { input: b, outcome: forged, reason: 'differs', ref: 'forger' },
      { input: b, outcome: after, reason: 'stale', ref: 'copy' },
    ]);
  });
});

describe('what is unanswered', () => {
  it('given inputs without outcomes at the end of the stream, then skipping them leaves the state as it is', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    const c = s.input('c');
    // c's stored answer assumes a and b applied; skipped, they are not
    s.outcome(c, `${c}:c#2`);
    expect(s.ledger.unanswered()).toEqual([a, b, c]);
    expect(s.ledger.skipHead()?.seq).toBe(a);
    expect(s.ledger.skipHead()?.seq).toBe(b);
    expect(s.ledger.skipHead()?.seq).toBe(c);
    expect(s.ledger.skipHead()).toBeNull();
    expect(s.judge.applied).toEqual([]);
    expect(s.judge.refusals).toMatchObject([{ input: c, reason: 'differs' }]);
  });

  it('skipping a head lets an early answer of the next input count when it matches', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    const ob = s.outcome(b, `${b}:b#0`);
    expect(s.ledger.skipHead()?.seq).toBe(a);
    expect(s.judge.applied).toEqual([`${b}@${ob}`]);
    expect(s.ledger.waiting).toBe(0);
  });
});

describe('claiming: the decider applies its own decision before its stored copy is read', () => {
  it('given a claimed input, when its stored copy is read, then it is confirmed, not applied twice', () => {
    const s = stream();
    const a = s.input('a');
    const e = s.ledger.claimHead()!;
    expect(e.answerText).toBe(`${a}:a#0`);
    expect(s.ledger.waiting).toBe(0);
    expect(s.ledger.unconfirmed).toBe(1);
    expect(s.ledger.anyUnconfirmed).toBe(true);
    s.outcome(a, e.answerText);
    expect(s.judge.confirmed).toEqual([a]);
    expect(s.judge.applied).toEqual([]);
    expect(s.ledger.unconfirmed).toBe(0);
    expect(s.ledger.anyUnconfirmed).toBe(false);
  });

  it('given a claimed input, when a forged outcome for it is read first, then the forged is refused and the copy confirms', () => {
    const s = stream();
    const a = s.input('a');
    const e = s.ledger.claimHead()!;
    const forged = s.outcome(a, `${a}:FORGED#0`, 'forger');
    expect(s.judge.refusals).toEqual([{ input: a, outcome: forged, reason: 'differs', ref: 'forger' }]);
    expect(s.ledger.find(a)).toBe(e);
    s.outcome(a, e.answerText);
    expect(s.judge.confirmed).toEqual([a]);
    expect(s.ledger.find(a)).toBeUndefined();
  });

  it('stored copies read out of order confirm their own inputs', () => {
    const s = stream();
    const a = s.input('a');
    const b = s.input('b');
    const ea = s.ledger.claimHead()!;
    s.judge.applied.push('a by the decider');
    const eb = s.ledger.claimHead()!;
    expect(eb.answerText).toBe(`${b}:b#1`);
    s.outcome(b, eb.answerText);
    s.outcome(a, ea.answerText);
    expect(s.judge.confirmed).toEqual([b, a]);
    expect(s.ledger.unconfirmed).toBe(0);
    expect(s.ledger.anyUnconfirmed).toBe(false);
  });

  it('another instance answering the head while an older claim is unconfirmed', () => {
    const s = stream();
    const a = s.input('a');
    const ea = s.ledger.claimHead()!;
    s.judge.applied.push('a by the decider');
    const b = s.input('b');
    const ob = s.outcome(b, `${b}:b#1`);
    expect(s.judge.applied).toEqual(['a by the decider', `${b}@${ob}`]);
    s.outcome(a, ea.answerText);
    expect(s.judge.confirmed).toEqual([a]);
  });
});

describe('many inputs, outcomes stored in any order, with forgeries and copies', () => {
  it('every input is applied once, in input order, with its true answer', () => {
    const rnd = prng(11);
    const s = stream();
    const inputs: number[] = [];
    /** outcomes not stored yet: [causation, text, ref] */
    let pending: Array<[number, string, string]> = [];
    // a reference decider: decides each input in order, as the ledger will
    let appliedByReference = 0;
    for (let i = 0; i < 20_000; i++) {
      const seq = s.input(`w${i}`);
      inputs.push(seq);
      pending.push([seq, `${seq}:w${i}#${appliedByReference++}`, 'real']);
      if (rnd() < 0.05) pending.push([seq, `${seq}:forged#0`, 'forger']);
      if (rnd() < 0.3) {
        // store a few pending outcomes in a shuffled order (a retried publish lands later)
        pending.sort(() => rnd() - 0.5);
        const n = Math.floor(rnd() * pending.length);
        for (const [c, text, ref] of pending.slice(0, n)) s.outcome(c, text, ref);
        pending = pending.slice(n);
      }
    }
    for (const [c, text, ref] of pending) s.outcome(c, text, ref);
    expect(s.judge.applied.map((x) => Number(x.split('@')[0]))).toEqual(inputs);
    expect(s.judge.refusals.every((r) => r.ref === 'forger' && r.reason !== 'unreadable')).toBe(true);
    expect(s.ledger.waiting).toBe(0);
  });
});
