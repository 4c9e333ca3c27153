/** The wire contract: subjects, input and outcome bodies, their schemas, and the input codec. */
export {
  INPUT_SUBJECTS,
  OUTCOME_SUBJECTS,
  EVENT_TYPE_BY_SUBJECT,
  QUERY_SUBJECTS,
  outcomeMsgId,
  outcomeSubject,
} from './subjects.js';
export type { InputSubject, OutcomeSubject, QuerySubject } from './subjects.js';
export type { StoredEvent } from './stored-event.js';
export {
  PoolMetadataDto,
  RangeDto,
  SelectorDto,
  PoolSpecDto,
  IPPoolDto,
  PoolRefDto,
  LbRefMetadataDto,
  LbMetadataDto,
  LbSpecDto,
  LoadBalancerDto,
  LoadBalancerRefDto,
  ReleaseAddressDto,
  HistoryEntryDto,
  ImportHistoryDto,
} from './input.dto.js';
export {
  MAX_BODY_DEPTH,
  nestedDeeperThan,
  TOO_DEEP_REASON,
  parseJsonBody,
  judged,
  validateShape,
  checkShape,
  declareFreeText,
  readBody,
} from './validate-body.js';
export type { BodyResult, FreeTextPaths } from './validate-body.js';
export { isInputSubject, inputCommand, serviceCodec } from './input-codec.js';
export type { WireCodec } from './input-codec.js';
export { InputLedger, WAITING, CLAIMED, SETTLED } from './input-ledger.js';
export type { LedgerEntry, LedgerJudge, RefusalReason } from './input-ledger.js';
export { LoadBalancersQueryDto, LoadBalancerListDto } from './query-list.dto.js';
export { SCHEMAS, INPUT_SCHEMAS, OUTCOME_SCHEMAS, QUERY_SCHEMAS } from './schemas.js';
export type { JsonSchema } from './schemas.js';
/** What outcomes and query replies carry, for clients (the domain's types are the wire bodies). */
export type {
  ErrorCode,
  Causation,
  PoolAcceptedData,
  PoolRejectedData,
  IPAllocatedData,
  LBRejectedData,
  IPReleasedData,
  HistoryImportedData,
  AddressRejectedData,
  IpamEvent,
  IpamEventType,
  IPPoolView,
  LoadBalancerView,
} from '../../ipam-domain/src/index.js';
export type { Point, Holding, Rejection, LoadBalancerEntry } from '../../ipam-audit/src/index.js';
export { actorOf, withActor } from './actor.js';
