/**
 * The caller of the HTTP request being served, for the code that writes inputs on its behalf: the
 * guard names it on the request (`req.principal`), the publish path reads it from the response's
 * request and writes it as the input's metadata.actor. Passed along explicitly: no async context.
 */
import type { Request, Response } from 'express';
import type { Principal } from './roles.js';

/** Who the request that `res` answers was authenticated as; undefined without authentication. */
export function requestActor(res: Response): string | undefined {
  const p = (res.req as Request & { principal?: Principal }).principal;
  return p !== undefined && p.via !== 'none' ? p.name : undefined;
}
