/**
 * Rejections with stable codes. `code` is the machine word on the wire (contract.md); `reason` is a
 * sentence a person can act on. Decisions never throw these across the domain boundary: `decide`
 * turns them into rejection events.
 */
export const ErrorCodes = [
  'InvalidEvent',
  'InvalidRange',
  'InvalidNetwork',
  'RangeOverlap',
  'ScopeOverlap',
  'DuplicatePriority',
  'GlobalPoolExists',
  'AllocatedOutOfRange',
  'PoolInUse',
  'PoolExists',
  'UnknownPool',
  'NoMatchingPool',
  'PoolExhausted',
  'UnknownLoadBalancer',
  'AddressUnavailable',
  'AddressNotAllocated',
  'InternalError',
  'ExcludesAllocated',
  'SharingKeyConflict',
  'FamilyUnavailable',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class IpamError extends Error {
  readonly code: ErrorCode;
  readonly reason: string;

  /**
   * No stack trace is captured: an IpamError is a rejection, caught and turned into an event by
   * `decide` (many per second on a busy stream), not a fault to debug; its code and reason say it all.
   * `stack` is just "IpamError: <code>: <reason>".
   */
  constructor(code: ErrorCode, reason: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${reason}`);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.reason = reason;
    this.name = 'IpamError';
  }
}

export function reject(code: ErrorCode, reason: string): never {
  throw new IpamError(code, reason);
}
