/**
 * Events: the outcomes the service publishes (contract.md), one per input. Their data is exactly the
 * wire body, so the state is a fold of what the stream holds.
 */
import type { ErrorCode } from './errors.js';
import type { PoolSpec } from './pool-spec.js';

export interface Causation {
  /** stream sequence of the input this answers */
  causationSeq: number;
  /** the input's Nats-Msg-Id, or null */
  causationId: string | null;
}

export interface PoolAcceptedData extends Causation {
  name: string;
  change: 'created' | 'updated' | 'deleted';
  /** the canonical spec in force after this change (absent for deleted); an addition to the contract */
  spec?: PoolSpec;
  /**
   * the unknown fields of the pool object that were dropped (section 9), one sentence each:
   * `unknown field "spec.ranges[0].type" was dropped`; absent when there are none (an addition)
   */
  warnings?: string[];
}

export interface PoolRejectedData extends Causation {
  name: string;
  code: ErrorCode;
  reason: string;
}

export interface IPAllocatedData extends Causation {
  loadBalancer: string;
  ipPool: string;
  ip: string;
  mask: string;
  prefixLength: number;
  gateway: string | null;
  fromHistory: boolean;
}

export interface LBRejectedData extends Causation {
  loadBalancer: string;
  code: ErrorCode;
  reason: string;
}

export interface IPReleasedData extends Causation {
  loadBalancer: string;
  ipPool: string;
  ip: string;
  /** true when an operator force-released the address (addition to the contract) */
  forced?: boolean;
}

export interface HistoryImportedData extends Causation {
  ipPool: string;
  /** ip -> "namespace/name" entries added to allocatedHistory */
  entries: Array<{ ip: string; loadBalancer: string }>;
}

export interface AddressRejectedData extends Causation {
  ip: string;
  ipPool: string | null;
  code: ErrorCode;
  reason: string;
}

export type IpamEvent =
  | { type: 'PoolAccepted'; data: PoolAcceptedData }
  | { type: 'PoolRejected'; data: PoolRejectedData }
  | { type: 'IPAllocated'; data: IPAllocatedData }
  | { type: 'LBRejected'; data: LBRejectedData }
  | { type: 'IPReleased'; data: IPReleasedData }
  | { type: 'HistoryImported'; data: HistoryImportedData }
  | { type: 'AddressRejected'; data: AddressRejectedData };

export type IpamEventType = IpamEvent['type'];
