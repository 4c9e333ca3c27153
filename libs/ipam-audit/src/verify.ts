/**
 * Replay verification: re-decide every input of a stream with this build, starting from an empty
 * state, and compare each decision with the outcome the stream recorded for that input.
 *
 * Two passes over the stored events: the first indexes the first recorded outcome of every input (an
 * outcome is stored after its input), the second decides the inputs in order and compares. The state
 * evolves with the recorded outcomes, so a divergence is reported where it happens and does not hide
 * or cause later ones; the report names the first.
 */
import { decide, evolve, initialState, IpamCommand, IpamEvent } from '../../ipam-domain/src/index.js';
import type { StoredEvent } from './stored-event.js';

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

export interface VerifyCodec {
  /** null when the subject is not an input */
  toCommand(event: StoredEvent): IpamCommand | null;
  /** the domain event type of an outcome subject, or null */
  eventType(subject: string): IpamEvent['type'] | null;
  subjectOf(event: IpamEvent): string;
}

const decoder = new TextDecoder();

export async function verifyReplay(
  read: () => AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  codec: VerifyCodec,
  onProgress?: (seq: number) => void,
): Promise<VerifyReport> {
  // Pass 1: the first recorded outcome of each input.
  const recorded = new Map<number, { seq: number; subject: string; text: string }>();
  for await (const e of read()) {
    const type = codec.eventType(e.subject);
    if (type === null) continue;
    const text = decoder.decode(e.data);
    // read as the service reads an outcome: JSON with a numeric causationSeq, answering an earlier input
    let causation: unknown;
    try {
      causation = (JSON.parse(text) as { causationSeq?: unknown } | null)?.causationSeq;
    } catch {
      continue;
    }
    if (typeof causation !== 'number' || causation >= e.seq) continue;
    if (!recorded.has(causation)) recorded.set(causation, { seq: e.seq, subject: e.subject, text });
  }
  // Pass 2: decide every input in order and compare.
  const state = initialState();
  const report: VerifyReport = { inputs: 0, matched: 0, unanswered: [], firstDivergence: null, divergences: 0 };
  let n = 0;
  for await (const e of read()) {
    if (onProgress && ++n % 10_000 === 0) onProgress(e.seq);
    const command = codec.toCommand(e);
    if (command === null) continue;
    report.inputs++;
    const [decided] = decide(command, state);
    const decidedText = JSON.stringify(decided.data);
    const decidedSubject = codec.subjectOf(decided);
    const rec = recorded.get(e.seq);
    if (!rec) {
      report.unanswered.push(e.seq);
      continue;
    }
    if (rec.subject === decidedSubject && rec.text === decidedText) {
      report.matched++;
      evolve(state, decided);
      continue;
    }
    report.divergences++;
    let recordedBody: unknown = rec.text;
    try {
      recordedBody = JSON.parse(rec.text);
    } catch {
      // keep the text
    }
    if (report.firstDivergence === null) {
      report.firstDivergence = {
        inputSeq: e.seq,
        inputSubject: e.subject,
        recorded: { seq: rec.seq, subject: rec.subject, body: recordedBody },
        decided: { subject: decidedSubject, body: decided.data },
      };
    }
    // Go on from what the stream recorded: that is the state later inputs were decided on.
    const type = codec.eventType(rec.subject);
    if (type !== null && typeof recordedBody === 'object') evolve(state, { type, data: recordedBody } as IpamEvent);
  }
  return report;
}
