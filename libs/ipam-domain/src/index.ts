/** The pure domain: addresses, pools, decide and evolve, status, the vip-pools migration plan. */
export {
  V4_BASE,
  AddressSyntaxError,
  familyOf,
  bitsOf,
  parseAddress,
  parseCidr,
  lastFormatted,
  formatAddress,
  decodeAddress,
  decodeV4,
  V6_PARTS,
  splitV6,
  v6Parts,
  canonicalText,
  formatMask,
  commonPrefix,
  formatCidr,
} from './address.js';
export type { Family, Cidr } from './address.js';
export { ErrorCodes, IpamError, reject } from './errors.js';
export type { ErrorCode } from './errors.js';
export { AddressTable } from './address-table.js';
export type { AddressEntry } from './address-table.js';
export { IntervalSet } from './interval-set.js';
export {
  ANNOTATION_PREFIX,
  NETWORK_ANNOTATION,
  PROJECT_ANNOTATION,
  NAMESPACE_ANNOTATION,
  CLUSTER_ANNOTATION,
  lbKey,
  parseLoadBalancerRef,
  parseLoadBalancer,
  describeRequirement,
} from './load-balancer.js';
export type { LoadBalancerInput, Requirement, LoadBalancerRequest } from './load-balancer.js';
export {
  API_VERSIONS,
  CANONICAL_API_VERSION,
  validatePoolName,
  parseRange,
  parsePool,
  isGlobalScope,
  definitionFromSpec,
  canonicalSpecKey,
  sameAddresses,
  inIntervals,
  FAMILY_BIT,
} from './pool-spec.js';
export type { RangeSpec, ScopeTuple, PoolSpec, IPPoolInput, RangeDef, PoolDefinition } from './pool-spec.js';
export { unknownPoolFields, unknownFieldWarning, MAX_NAMED_UNKNOWN_FIELDS } from './pool.unknown-fields.js';
export type { CommandMeta, IpamCommand, IpamCommandType } from './pool.commands.js';
export type {
  Causation,
  PoolAcceptedData,
  PoolRejectedData,
  IPAllocatedData,
  LBRejectedData,
  IPReleasedData,
  AllocatedAddress,
  HistoryImportedData,
  AddressRejectedData,
  IpamEvent,
  IpamEventType,
} from './pool.events.js';
export {
  initialState,
  offsetValue,
  newPoolState,
  lastAllocatedOf,
  heldAddress,
  refAddress,
  holdingOf,
  holderOf,
  tableEntries,
  allocatedEntries,
  historyEntries,
  rangeIndexOf,
  isAllocatable,
  isExcluded,
  isFree,
  available,
  buildFreeSets,
} from './pool.state.js';
export type {
  HistoryRef,
  LoadBalancerRecord,
  PoolState,
  Holding,
  IpamState,
  TableEntry,
  AddressRecord,
} from './pool.state.js';
export { tupleMatches, globalPool, selectPool, poolServes } from './pool.select.js';
export { validateAgainstOthers, validateUpdateKeepsAllocations, otherPools } from './pool.validate.js';
export { nextFit, fromHistory } from './pool.allocate.js';
export { decide } from './pool.decide.js';
export { evolve } from './pool.evolve.js';
export { count, poolStatus, poolView, poolViews, loadBalancerView } from './pool.status.js';
export type { Count, PoolStatus, IPPoolView, LoadBalancerView } from './pool.status.js';
export { ipamDecider, fold, handle } from './pool.decider.js';
export type { Decider } from './pool.decider.js';
export { planVipPoolsMigration } from './vip-pools.migrate.js';
export type {
  VipPoolsSetting,
  KubeVipRecords,
  MigratedPool,
  MigrationProblem,
  MigrationWarning,
  MigrationPlan,
} from './vip-pools.migrate.js';
export { exportState, importState, SNAPSHOT_FORMAT, SnapshotError } from './snapshot.js';
export type {
  StateSnapshot,
  PoolSnapshot,
  RecordsSnapshot,
  ShareSnapshot,
  SnapshotOffset,
} from './snapshot.js';
