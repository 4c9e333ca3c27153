/** The typed client of the IPAM service's wire (docs/contract.md): inputs, outcomes, queries. */
export {
  DEFAULT_SERVERS,
  DEFAULT_STREAM,
  DEFAULT_TIMEOUT_MS,
  IpamClient,
  connectIpam,
  isQueryError,
  natsConnectionOptions,
} from './client.js';
export type {
  IpamClientOptions,
  IpamCredentials,
  IpamTlsFiles,
  PublishAndWaitOptions,
  PublishedWithOutcome,
} from './client.js';
export { IpamClientError, isIpamClientError } from './errors.js';
export type { IpamClientErrorCode } from './errors.js';
export { InputPublisher } from './publisher.js';
export type { InputPublisherOptions, Published, PublishOptions } from './publisher.js';
export { decodeOutcome } from './outcomes.js';
export { parseServers, redactUrls } from './servers.js';
export type { ParsedServers, UrlCredentials } from './servers.js';
export type {
  AddressTimeline,
  AffectedLoadBalancer,
  AnswerOf,
  AnswerSubject,
  AsOfRequest,
  InputBodies,
  InputBody,
  LoadBalancerList,
  LoadBalancersRequest,
  LoadBalancerTimeline,
  Outcome,
  OutcomeBody,
  OutcomeTypeOf,
  Queries,
  QueryErrorReply,
  QueryName,
  QueryReply,
  QueryRequest,
  WhatIf,
} from './types.js';
