/**
 * The wire, typed: input bodies by subject, outcomes by subject (the domain's event data, which is
 * exactly the wire body), which outcomes answer which input, and the queries' requests and replies.
 * Every subject and type comes from libs/ipam-contract.
 */
import type {
  Holding,
  ImportHistoryDto,
  InputSubject,
  IpamEvent,
  IpamEventType,
  IPPoolDto,
  IPPoolView,
  LoadBalancerDto,
  LoadBalancerEntry,
  LoadBalancerRefDto,
  LoadBalancerView,
  OUTCOME_SUBJECTS,
  OutcomeSubject,
  PoolRefDto,
  QUERY_SUBJECTS,
  ReleaseAddressDto,
} from '../../ipam-contract/src/index.js';

/** The body of an input, by subject (unknown fields are allowed: Kubernetes objects carry many). */
export interface InputBodies {
  'ipam.pool.created': IPPoolDto;
  'ipam.pool.updated': IPPoolDto;
  'ipam.pool.deleted': PoolRefDto;
  'ipam.lb.requested': LoadBalancerDto;
  'ipam.lb.deleted': LoadBalancerRefDto;
  'ipam.ip.releaserequested': ReleaseAddressDto;
  'ipam.pool.historyimported': ImportHistoryDto;
}
export type InputBody<S extends InputSubject> = S extends keyof InputBodies ? InputBodies[S] : never;

/** The domain event type an outcome subject carries. */
export type OutcomeTypeOf<S extends OutcomeSubject> = {
  [T in IpamEventType]: (typeof OUTCOME_SUBJECTS)[T] extends S ? T : never;
}[IpamEventType];

/** The body of an outcome, by subject. */
export type OutcomeBody<S extends OutcomeSubject> = Extract<IpamEvent, { type: OutcomeTypeOf<S> }>['data'];

/**
 * An outcome as the stream stored it. A union over subjects: testing `subject` (or `type`) narrows
 * `body`.
 */
export type Outcome<S extends OutcomeSubject = OutcomeSubject> = {
  [K in S]: {
    /** its own stream sequence */
    seq: number;
    subject: K;
    type: OutcomeTypeOf<K>;
    body: OutcomeBody<K>;
    /** when the stream stored it, ms since the epoch */
    timeMs: number;
  };
}[S];

/** The outcome types that answer each input (an input that is not the contract's shape gets the rejection). */
interface AnswerTypes {
  'ipam.pool.created': 'PoolAccepted' | 'PoolRejected';
  'ipam.pool.updated': 'PoolAccepted' | 'PoolRejected';
  'ipam.pool.deleted': 'PoolAccepted' | 'PoolRejected';
  'ipam.lb.requested': 'IPAllocated' | 'LBRejected';
  'ipam.lb.deleted': 'IPReleased' | 'LBRejected';
  'ipam.ip.releaserequested': 'IPReleased' | 'AddressRejected';
  'ipam.pool.historyimported': 'HistoryImported' | 'PoolRejected';
}

/** The outcome subjects that can answer an input on `S`. */
export type AnswerSubject<S extends InputSubject> = S extends keyof AnswerTypes
  ? (typeof OUTCOME_SUBJECTS)[AnswerTypes[S]]
  : OutcomeSubject;

/** The outcome of an input on `S`. */
export type AnswerOf<S extends InputSubject> = Outcome<AnswerSubject<S>>;

/** The `{"error": {"code", "reason"}}` reply of a query. */
export interface QueryErrorReply {
  error: { code: string; reason: string };
}

export interface AddressTimeline {
  ip: string;
  /** how many holders there are in all (the reply has the most recent `limit`) */
  total?: number;
  holders: Holding[];
}

export interface LoadBalancerTimeline {
  loadBalancer: string;
  total?: number;
  entries: LoadBalancerEntry[];
}

/** A point of the audit log to look from: a time (RFC 3339) or a stream sequence; the most recent `limit` entries. */
export interface AsOfRequest {
  at?: string;
  seq?: number;
  limit?: number;
}

/** `ipam.query.lbs`: filters and a page (`limit`, and `continue` from the previous reply). */
export interface LoadBalancersRequest {
  namespace?: string;
  pool?: string;
  limit?: number;
  continue?: string;
}

/** The load balancers holding an address, by "namespace/name"; `continue` while more remain. */
export interface LoadBalancerList {
  items: LoadBalancerView[];
  continue?: string;
}

/** How a pool update or delete would touch a load balancer's address (ipam.query.whatif's `affected`). */
export interface AffectedLoadBalancer {
  loadBalancer: string;
  ipPool: string;
  ip: string;
  effect: 'blocksUpdate' | 'blocksDelete' | 'historyPruned' | 'historyExcluded';
}

/** `ipam.query.whatif`'s reply: the outcome an input would get now (causationSeq 0), nothing stored. */
export interface WhatIf<S extends InputSubject = InputSubject> {
  subject: AnswerSubject<S>;
  body: OutcomeBody<AnswerSubject<S>>;
  affected: AffectedLoadBalancer[];
}

/** Each query: its subject, request and reply. */
export interface Queries {
  pools: { request: Record<string, never>; reply: { items: IPPoolView[] } };
  pool: { request: { name: string }; reply: IPPoolView };
  lb: { request: { namespace: string; name: string }; reply: LoadBalancerView };
  lbs: { request: LoadBalancersRequest; reply: LoadBalancerList };
  auditAddress: { request: { ip: string } & AsOfRequest; reply: AddressTimeline };
  auditLoadBalancer: {
    request: { namespace: string; name: string } & AsOfRequest;
    reply: LoadBalancerTimeline;
  };
  whatif: { request: { subject: InputSubject; body: unknown }; reply: WhatIf };
}
export type QueryName = keyof typeof QUERY_SUBJECTS & keyof Queries;
export type QueryRequest<Q extends QueryName> = Queries[Q]['request'];
export type QueryReply<Q extends QueryName> = Queries[Q]['reply'];
