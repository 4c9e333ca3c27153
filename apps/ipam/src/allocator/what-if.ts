/**
 * Dry runs: the outcome an input would get now, decided on the current state and never stored
 * (ipam.query.whatif, HTTP's ?dryRun=All). decide is pure: nothing is evolved or published.
 */
import type { IpamEvent, IpamState } from '../../../../libs/ipam-domain/src/index.js';
import { affectedBy, type AffectedLoadBalancer } from '../../../../libs/ipam-domain/src/what-if.js';
import { decideAnswer } from '../../../../libs/ipam-audit/src/index.js';
import { inputCommand, isInputSubject, outcomeSubject } from '../../../../libs/ipam-contract/src/index.js';

export interface WhatIfAnswer {
  /** the outcome subject the input would get */
  subject: string;
  /**
   * the outcome body it would get; causationSeq the sequence the input would get if published now (the
   * one after the last this instance read), causationId null: no input was stored
   */
  body: Record<string, unknown>;
  /** the load balancers a pool update or delete would affect, and how (else empty) */
  affected: AffectedLoadBalancer[];
}

const encoder = new TextEncoder();

/**
 * The outcome `body` published on input subject `subject` as stream sequence `seq` would get on `state`,
 * and (not on the wire) that outcome as a domain event; null: not an input subject.
 */
export function whatIf(
  state: IpamState,
  subject: string,
  body: unknown,
  maxBytes: number,
  seq: number,
): (WhatIfAnswer & { event: IpamEvent }) | null {
  if (!isInputSubject(subject)) return null;
  const command = inputCommand(subject, encoder.encode(JSON.stringify(body)), { seq, id: null }, maxBytes);
  const outcome = decideAnswer(command, state);
  return {
    subject: outcomeSubject(outcome),
    body: outcome.data as unknown as Record<string, unknown>,
    affected: affectedBy(command, outcome, state),
    event: outcome,
  };
}
