/**
 * The HTTP API's door: each HTTP controller is guarded by HttpAuthGuard (NATS handlers are not: the
 * bus has its own permissions), which authenticates the bearer token and checks the operation's role.
 * The OpenAPI page and document are express routes of their own, guarded by `docsAuth`.
 */
import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { ref } from '../http/openapi.js';
import { ApiProblem, PROBLEM_CONTENT_TYPE } from '../http/problem.js';
import { AuthError, type Authenticator } from './authenticator.js';
import { allows, defaultRole, OPEN, REQUIRES_ROLE, type Principal, type PublicPart, type Role } from './roles.js';

export const AUTHENTICATOR = Symbol('AUTHENTICATOR');

/** The request of an authenticated caller. */
export type AuthenticatedRequest = Request & { principal?: Principal };

function problemOf(e: unknown): unknown {
  return e instanceof AuthError ? new ApiProblem(e.code, e.message) : e;
}

/**
 * Authenticates the request and checks that its principal holds `needed`; sets `req.principal`. A 401
 * says how to authenticate (RFC 6750's WWW-Authenticate).
 */
async function admit(auth: Authenticator, req: AuthenticatedRequest, res: Response, needed: Role): Promise<void> {
  let principal: Principal;
  try {
    principal = await auth.authenticate(req.headers.authorization);
  } catch (e) {
    if (e instanceof AuthError && e.code === 'Unauthorized') res.setHeader('WWW-Authenticate', 'Bearer realm="ipam"');
    throw problemOf(e);
  }
  if (!allows(principal.role, needed)) {
    throw new ApiProblem('Forbidden', `${principal.name} has the role ${principal.role}; this needs ${needed}`);
  }
  req.principal = principal;
}

@Injectable()
export class HttpAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    const open = this.reflector.getAllAndOverride<'always' | PublicPart | undefined>(OPEN, targets);
    if (open === 'always' || (open !== undefined && this.auth.settings.open.includes(open))) return true;
    const needed = this.reflector.getAllAndOverride<Role | undefined>(REQUIRES_ROLE, targets) ?? defaultRole(req.method);
    await admit(this.auth, req, ctx.switchToHttp().getResponse<Response>(), needed);
    return true;
  }
}

/** Express middleware for the OpenAPI page and document: viewers, or anyone when IPAM_HTTP_PUBLIC lists docs. */
export function docsAuth(auth: Authenticator, answer: (res: Response, problem: ApiProblem) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (auth.settings.open.includes('docs')) return next();
    admit(auth, req, res, 'viewer').then(
      () => next(),
      (e) => (e instanceof ApiProblem ? answer(res, e) : next(e)),
    );
  };
}

const problemAnswer = (status: number, description: string) =>
  ApiResponse({ status, description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } } });

/** A controller behind the door: guarded, and its 401 and 403 answers documented. */
export function Guarded(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(HttpAuthGuard),
    ApiBearerAuth(),
    problemAnswer(401, 'Unauthorized: no bearer token, or one that is not valid (HTTP authentication is configured)'),
    problemAnswer(403, 'Forbidden: the token is valid, but its role may not do this'),
  );
}
