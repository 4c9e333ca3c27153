/** The audit read model, the in-order fold of a stream with this build, and replay verification (no I/O). */
export { AuditProjection } from './audit.projection.js';
export type { ProjectionColumns } from './audit.projection.js';
export type { Point, Holding, Rejection, LoadBalancerEntry, AsOf } from './audit.projection.js';
export { verifyReplay, createVerifier, causationOf } from './verify.js';
export type { Divergence, Refusal, VerifyReport, Verifier, VerifyOptions } from './verify.js';
export { decideAnswer } from './decide-answer.js';
