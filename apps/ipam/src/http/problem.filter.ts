/**
 * The one exception filter of the HTTP edge: whatever a controller, a pipe or Nest's router throws is
 * answered as an RFC 9457 problem (problem.ts). An ApiProblem carries its code; an HttpException of
 * Nest's (an unknown route: 404, a method a path does not take) gets the code of its status (or the
 * code it carries, as {code, reason, ...}); anything
 * else is a 500 InternalError, logged here with its stack, its detail saying nothing of the internals.
 *
 * Microservice (NATS) handlers share the application's filters: their errors go to Nest's own RPC
 * filter, as before.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { BaseRpcExceptionFilter } from '@nestjs/microservices';
import type { Request, Response } from 'express';
import type { AppLogger } from '../logging/logger.js';
import { ApiProblem, codeOfStatus, problem, sendProblem, type Problem } from './problem.js';

export const INTERNAL_ERROR_DETAIL = 'the service failed to answer this request; the error is in its log';

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly rpc = new BaseRpcExceptionFilter();

  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType() !== 'http') return this.rpc.catch(exception, host);
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const p = this.problemOf(exception, req);
    if (res.headersSent) {
      this.logger.error({ err: String(exception), path: req.path }, 'error after the answer was sent');
      res.end();
      return undefined;
    }
    sendProblem(res, p);
    return undefined;
  }

  private problemOf(exception: unknown, req: Request): Problem {
    if (exception instanceof ApiProblem) return exception.toProblem();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      // {code, reason, ...}: a code and its detail given the older way
      if (isCoded(body)) {
        const { code, reason, ...extensions } = body;
        return problem(code, status, reason, extensions);
      }
      if (status >= 500) this.logInternal(exception, req);
      return problem(codeOfStatus(status), status, detailOf(exception, req));
    }
    this.logInternal(exception, req);
    return problem('InternalError', 500, INTERNAL_ERROR_DETAIL);
  }

  private logInternal(exception: unknown, req: Request): void {
    const err = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
    this.logger.error({ err, method: req.method, path: req.path }, 'HTTP request failed');
  }
}

function isCoded(body: unknown): body is { code: string; reason: string; [k: string]: unknown } {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { code?: unknown; reason?: unknown };
  return typeof b.code === 'string' && typeof b.reason === 'string';
}

/** What Nest's own exceptions say: "Cannot GET /v1/x" for an unknown route, else their message. */
function detailOf(e: HttpException, req: Request): string {
  const body = e.getResponse();
  const message =
    typeof body === 'object' && body !== null && 'message' in body
      ? (body as { message: unknown }).message
      : body;
  if (e.getStatus() === 404 && typeof message === 'string' && message.startsWith('Cannot ')) {
    return `no route answers ${req.method} ${req.path}`;
  }
  return Array.isArray(message) ? message.join('; ') : String(message);
}
