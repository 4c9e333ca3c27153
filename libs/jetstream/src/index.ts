/** JetStream plumbing: the nats-server launcher, stream setup, the event store, the KV lease. */
export {
  findNatsServer,
  isListening,
  freePort,
  NatsServerStartError,
  startNatsServer,
} from './nats-server.launcher.js';
export type { StartNatsServerOptions, NatsServerHandle } from './nats-server.launcher.js';
export {
  IPAM_STREAM_DEFAULT_NAME,
  IPAM_STREAM_SUBJECTS,
  IPAM_DUPLICATE_WINDOW_MS,
  StreamConfigMismatchError,
  ipamStreamConfig,
  ensureIpamStream,
} from './stream.js';
export type { EnsureIpamStreamOptions, EnsureIpamStreamResult } from './stream.js';
export {
  AppendConflictError,
  WrongLastSequenceError,
  WrongLastMsgIdError,
  NoStreamForSubjectError,
  encodeBody,
  decodeJson,
  EventStore,
  READ_BATCH_MAX,
} from './event-store.js';
export type {
  AppendOptions,
  AppendResult,
  StoredMessage,
  ReadOptions,
  EventStoreOptions,
} from './event-store.js';
export {
  DEFAULT_LEASE_BUCKET,
  DEFAULT_LEASE_KEY,
  DEFAULT_LEASE_TTL_MS,
  holderProcessGone,
  isCasFailure,
  defaultHolderId,
  KvLease,
} from './lease.js';
export type {
  LeaseLostReason,
  LeaseValue,
  LeaseClock,
  KvLeaseOptions,
  OpenKvLeaseOptions,
  LeaseObservation,
  LeaseSupersession,
} from './lease.js';
export { isUnavailable, backoffMs, untilAvailable } from './unavailable.js';
export { inboxPrefixOf, connectionInbox } from './inbox.js';
export type { UntilAvailableOptions } from './unavailable.js';
export { connectCoalesced } from './coalesced-writes.js';
export { PubAckPipeline, StreamPublishError } from './pub-ack-pipeline.js';
export type {
  PubAckPipelineOptions,
  StreamAck,
  StreamPublisher,
  StreamPublishErrorCode,
} from './pub-ack-pipeline.js';
