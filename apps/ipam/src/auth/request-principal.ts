/**
 * The caller of the HTTP request being served, for the code that writes inputs on its behalf: the
 * guard names it, the publish path reads it (and writes it as the input's metadata.actor). One store
 * per request, opened by `principalContext` before anything else runs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from './roles.js';

const requests = new AsyncLocalStorage<{ principal?: Principal }>();

/** Express middleware: every request gets its own store. */
export function principalContext(_req: Request, _res: Response, next: NextFunction): void {
  requests.run({}, next);
}

export function setRequestPrincipal(principal: Principal): void {
  const store = requests.getStore();
  if (store) store.principal = principal;
}

/** Who the current request was authenticated as; undefined without authentication. */
export function requestActor(): string | undefined {
  const p = requests.getStore()?.principal;
  return p !== undefined && p.via !== 'none' ? p.name : undefined;
}
