/** The audit read model and replay verification (no I/O). */
export { AuditProjection } from './audit.projection.js';
export type { Point, Holding, Rejection, LoadBalancerEntry, AsOf } from './audit.projection.js';
export { verifyReplay, createVerifier } from './verify.js';
export type { Divergence, VerifyReport, Verifier } from './verify.js';
