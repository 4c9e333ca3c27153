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
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class IpamError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'IpamError';
  }
}

export function reject(code: ErrorCode, reason: string): never {
  throw new IpamError(code, reason);
}
