/** Injection tokens for what main.ts creates before the Nest application. */
export const IPAM_CONFIG = Symbol('IPAM_CONFIG');
export const IPAM_LOGGER = Symbol('IPAM_LOGGER');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const JETSTREAM = Symbol('JETSTREAM');
export const JETSTREAM_SERVER = Symbol('JETSTREAM_SERVER');
/** publishes outcomes with many PubAcks in flight (libs/jetstream/src/pub-ack-pipeline.ts) */
export const OUTCOME_PUBLISHER = Symbol('OUTCOME_PUBLISHER');
