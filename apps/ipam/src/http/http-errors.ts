import { BadRequestException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import {
  AddressSyntaxError,
  IpamError,
  formatAddress,
  parseAddress,
  validatePoolName,
} from '../../../../libs/ipam-domain/src/index.js';

/** The 400 of every operation that reads a path, query or body, for the OpenAPI document. */
export const BAD_REQUEST_DOC = 'a bad request: {code: BadRequest, reason}';

/** 400 with what is wrong. */
export function badRequest(reason: string): BadRequestException {
  return new BadRequestException({ code: 'BadRequest', reason });
}

export function notFound(code: string, reason: string): NotFoundException {
  return new NotFoundException({ code, reason });
}

/** 422: the service understood the request and rejected it (the rejection outcome's code and reason). */
export function rejected(body: Record<string, unknown>): HttpException {
  return new HttpException(body, HttpStatus.UNPROCESSABLE_ENTITY);
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
