/**
 * `?dryRun=All` on every write (Kubernetes' convention): the answer the write would get now, decided on
 * this instance's state as ipam.query.whatif decides it, with nothing published. It has the status and
 * the body the write would get (201 or 200 and the write's own answer; 422 and the rejection problem),
 * with `"dryRun": "All"` and `affected` (the load balancers a pool update or delete would touch) beside,
 * and the header `Dry-Run: All`. Its causationSeq (and a problem's `seq`) is the sequence the input
 * would get if published now. Any other value of dryRun is 400.
 */
import { ApiQuery } from '@nestjs/swagger';
import type { Response } from 'express';
import { evolve, type IpamState } from '../../../../libs/ipam-domain/src/index.js';
import { exportState, importState } from '../../../../libs/ipam-domain/src/snapshot.js';
import { withActor, type InputSubject } from '../../../../libs/ipam-contract/src/index.js';
import { whatIf } from '../allocator/what-if.js';
import { requestActor } from '../auth/request-principal.js';
import { badRequest, rejected } from './http-errors.js';

/** True for `?dryRun=All`, false without dryRun; 400 for anything else (another value, twice). */
export function isDryRun(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'All') return true;
  throw badRequest(`dryRun must be All (a dry run: nothing is published), got ${JSON.stringify(value)}`);
}

/** The dryRun query parameter in the OpenAPI document. */
export function ApiDryRun(): MethodDecorator {
  return ApiQuery({
    name: 'dryRun',
    required: false,
    enum: ['All'],
    description:
      "All: a dry run (Kubernetes' convention): the status and body the write would get now, with " +
      '`"dryRun": "All"` and `affected` (schema AffectedLoadBalancer: the load balancers a pool update or ' +
      'delete would touch) beside, and the header Dry-Run: All; nothing is published. Any other value is 400.',
  });
}

/**
 * Answers a dry run of `subject` with `body` (as written by the authenticated caller: its
 * metadata.actor, as the write would say) on `state`, as input `seq`. A rejection is thrown as the
 * write's 422 problem; otherwise the outcome body, or `own` of the state the outcome would leave (a
 * copy: the state itself is never changed), with dryRun and affected.
 */
export function dryRunAnswer(
  res: Response,
  state: IpamState,
  subject: InputSubject,
  body: unknown,
  maxBytes: number,
  seq: number,
  own?: (after: IpamState, outcome: Record<string, unknown>) => Record<string, unknown>,
): Record<string, unknown> {
  const answer = whatIf(state, subject, withActor(body, requestActor(res)), maxBytes, seq)!;
  res.setHeader('Dry-Run', 'All');
  const extra = { dryRun: 'All', affected: answer.affected };
  if (/\.rejected$/.test(answer.subject)) {
    const problem = rejected({ data: answer.body }, seq);
    Object.assign(problem.extensions, extra);
    throw problem;
  }
  const created = answer.subject === 'ipam.pool.accepted' && answer.body.change === 'created';
  res.status(created ? 201 : 200);
  if (own === undefined) return { ...answer.body, ...extra };
  const after = importState(exportState(state));
  evolve(after, answer.event);
  return { ...own(after, answer.body), ...extra };
}
