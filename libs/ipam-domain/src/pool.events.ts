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
  /** who asked, repeated from the input's metadata.actor; absent when it named no one */
  actor?: string;
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

/** One address of a dual-stack allocation (`addresses` of ipam.ip.allocated). */
export interface AllocatedAddress {
  ip: string;
  mask: string;
  prefixLength: number;
  gateway: string | null;
  ipPool: string;
  fromHistory: boolean;
}

export interface IPAllocatedData extends Causation {
  loadBalancer: string;
  ipPool: string;
  ip: string;
  mask: string;
  prefixLength: number;
  gateway: string | null;
  fromHistory: boolean;
  /**
   * every address it holds, the first as above, when it holds more than one (spec.ipFamilies with
   * both families); absent otherwise (an addition)
   */
  addresses?: AllocatedAddress[];
  /** the sharing key its address is held under (spec.sharingKey); absent without one (an addition) */
  sharingKey?: string;
  /** the other holders of its address(es), "namespace/name", oldest first; absent when none (an addition) */
  sharedWith?: string[];
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
  /** every address it held, when more than one (dual-stack); absent otherwise (an addition) */
  addresses?: Array<{ ip: string; ipPool: string }>;
  /**
   * the load balancers that still hold the address(es) under the same sharing key: present (never
   * empty) when the address stays allocated to them, absent when it went back to the pool (an addition)
   */
  stillSharedBy?: string[];
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
