/**
 * The body parsers' side of the edge. They run as express middleware, before Nest's routing and so
 * before its exception filter: their errors (JSON that does not parse, a body over the limit, a charset
 * other than UTF-8) are answered here as the same problems (problem.ts), with the parser's status (400,
 * 413, 415). A JSON body nested deeper than the contract allows is refused here too, before any
 * validation (400 InvalidEvent); a YAML body is measured where it is parsed (pools.controller.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import { nestedDeeperThan } from '../../../../libs/ipam-contract/src/index.js';
import type { AppLogger } from '../logging/logger.js';
import { tooDeep } from './http-errors.js';
import { codeOfStatus, problem, sendProblem } from './problem.js';
import { INTERNAL_ERROR_DETAIL } from './problem.filter.js';

interface ParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

function detailOf(e: ParserError, limitBytes: number): string {
  switch (e.type) {
    case 'entity.parse.failed':
      return `the body is not valid JSON: ${String(e.message)}`;
    case 'entity.too.large':
      return `the body is larger than the limit of ${limitBytes} bytes`;
    default:
      return String(e.message);
  }
}

/**
 * Express error middleware: the parsers' client errors get their problem here; any other error that
 * reaches express (outside Nest's handlers) is a logged 500 InternalError problem.
 */
export function bodyParserErrors(limitBytes: number, logger: AppLogger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = (err ?? {}) as ParserError;
    const status = e.status;
    if (
      typeof e.type === 'string' &&
      e.expose === true &&
      typeof status === 'number' &&
      status >= 400 &&
      status <= 499
    ) {
      sendProblem(res, problem(codeOfStatus(status), status, detailOf(e, limitBytes)));
      return;
    }
    logger.error(
      { err: err instanceof Error ? err.stack : String(err), path: req.path },
      'HTTP request failed',
    );
    sendProblem(res, problem('InternalError', 500, INTERNAL_ERROR_DETAIL));
  };
}

/** Express middleware after the JSON parser: a body nested deeper than MAX_BODY_DEPTH is refused. */
export function bodyDepthLimit(req: Request, res: Response, next: NextFunction): void {
  if (nestedDeeperThan(req.body)) {
    sendProblem(res, tooDeep().toProblem());
    return;
  }
  next();
}
