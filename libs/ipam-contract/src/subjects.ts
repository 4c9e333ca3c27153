/**
 * The wire contract's subjects (docs/contract.md) and their mapping to domain commands and events.
 */
import type { IpamCommandType, IpamEvent, IpamEventType } from '../../ipam-domain/src/index.js';

export const INPUT_SUBJECTS = {
  'ipam.pool.created': 'CreatePool',
  'ipam.pool.updated': 'UpdatePool',
  'ipam.pool.deleted': 'DeletePool',
  'ipam.lb.requested': 'RequestLoadBalancer',
  'ipam.lb.deleted': 'DeleteLoadBalancer',
  /** operator's force-release of an address (addition to the contract) */
  'ipam.ip.releaserequested': 'ForceReleaseAddress',
  /** allocation history carried over by the vip-pools migration (addition to the contract) */
  'ipam.pool.historyimported': 'ImportHistory',
} as const satisfies Record<string, IpamCommandType>;

export type InputSubject = keyof typeof INPUT_SUBJECTS;

export const OUTCOME_SUBJECTS = {
  PoolAccepted: 'ipam.pool.accepted',
  PoolRejected: 'ipam.pool.rejected',
  IPAllocated: 'ipam.ip.allocated',
  LBRejected: 'ipam.lb.rejected',
  IPReleased: 'ipam.ip.released',
  HistoryImported: 'ipam.pool.historyrestored',
  AddressRejected: 'ipam.ip.rejected',
} as const satisfies Record<IpamEventType, string>;

export type OutcomeSubject = (typeof OUTCOME_SUBJECTS)[IpamEventType];

export const EVENT_TYPE_BY_SUBJECT: Record<string, IpamEventType> = Object.fromEntries(
  Object.entries(OUTCOME_SUBJECTS).map(([type, subject]) => [subject, type as IpamEventType]),
);

export const QUERY_SUBJECTS = {
  pools: 'ipam.query.pools',
  pool: 'ipam.query.pool',
  lb: 'ipam.query.lb',
  /** addition: the load balancers holding an address, filtered and in pages (the CLI's `ipam get lbs`) */
  lbs: 'ipam.query.lbs',
  /** additions: the audit read model over NATS (the CLI's `ipam audit`) */
  auditAddress: 'ipam.query.audit.address',
  auditLoadBalancer: 'ipam.query.audit.lb',
  /** addition: dry runs, the outcome an input would get now (nothing stored) */
  whatif: 'ipam.query.whatif',
} as const;

export type QuerySubject = (typeof QUERY_SUBJECTS)[keyof typeof QUERY_SUBJECTS];

/** Nats-Msg-Id of the outcome of the input at `seq`: the same on every instance and every retry. */
export function outcomeMsgId(stream: string, seq: number): string {
  return `${stream}:outcome:${seq}`;
}

export function outcomeSubject(event: IpamEvent): string {
  return OUTCOME_SUBJECTS[event.type];
}
