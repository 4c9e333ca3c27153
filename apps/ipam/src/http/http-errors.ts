import {
  AddressSyntaxError,
  IpamError,
  formatAddress,
  parseAddress,
  validatePoolName,
} from '../../../../libs/ipam-domain/src/index.js';
import { nestedDeeperThan, TOO_DEEP_REASON } from '../../../../libs/ipam-contract/src/index.js';
import { ApiProblem } from './problem.js';

/** 400 BadRequest with what is wrong. */
export function badRequest(reason: string): ApiProblem {
  return new ApiProblem('BadRequest', reason);
}

/** 404 with the code of what was not found (UnknownPool, UnknownLoadBalancer). */
export function notFound(code: 'UnknownPool' | 'UnknownLoadBalancer', reason: string): ApiProblem {
  return new ApiProblem(code, reason);
}

/**
 * 422: the service understood the request and rejected it. The rejection outcome's code, its reason as
 * the detail, its other fields (name, loadBalancer, ip, ipPool, causationSeq, causationId) and the
 * input's stream sequence `seq` as extension members.
 */
export function rejected(outcome: { data: unknown }, seq: number): ApiProblem {
  const { code, reason, ...fields } = outcome.data as { code?: unknown; reason?: unknown };
  return new ApiProblem(String(code), String(reason), { ...fields, seq }, true);
}

/** 400 InvalidEvent for a body nested deeper than the contract allows, before any validation. */
export function tooDeep(): ApiProblem {
  return new ApiProblem('InvalidEvent', TOO_DEEP_REASON);
}

/** Refuses a body nested deeper than MAX_BODY_DEPTH (libs/ipam-contract). */
export function checkDepth(body: unknown): void {
  if (nestedDeeperThan(body)) throw tooDeep();
}

/**
 * 413 for an input that would be larger than the stream takes (IPAM_MAX_BODY_BYTES), as published: a
 * YAML body, or a body given its name from the path, can be a little larger as JSON than as sent.
 */
export function checkInputSize(input: unknown, maxBytes: number): void {
  const bytes = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (bytes > maxBytes) {
    throw new ApiProblem(
      'PayloadTooLarge',
      `the input is ${bytes} bytes as JSON, more than the limit of ${maxBytes} bytes`,
    );
  }
}

export function poolNameParam(name: string): string {
  try {
    return validatePoolName(name);
  } catch (e) {
    if (e instanceof IpamError) throw badRequest(e.reason);
    throw e;
  }
}

/** The canonical text of an address path parameter. */
export function addressParam(ip: string): string {
  try {
    return formatAddress(parseAddress(ip));
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw badRequest(e.message);
    throw e;
  }
}

export function lbParam(namespace: string, name: string): string {
  if (!namespace || !name || namespace.includes('/') || name.includes('/')) {
    throw badRequest('a load balancer is addressed as /{namespace}/{name}');
  }
  return `${namespace}/${name}`;
}
