/**
 * The body parsers' errors (JSON that does not parse, a body over the limit, an unknown charset),
 * answered as every other error of the API: {code, reason} with the parser's status (400, 413, 415).
 */
import type { NextFunction, Request, Response } from 'express';

/** The largest body the API reads, JSON or YAML. */
export const BODY_LIMIT = '1mb';

/** The 413 of an operation that takes a body, for the OpenAPI document. */
export const TOO_LARGE_DOC = `a body over ${BODY_LIMIT}: {code: PayloadTooLarge, reason}`;

interface ParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

function reasonOf(e: ParserError): string {
  switch (e.type) {
    case 'entity.parse.failed':
      return `the body is not valid JSON: ${String(e.message)}`;
    case 'entity.too.large':
      return `the body is larger than the limit of ${BODY_LIMIT}`;
    default:
      return String(e.message);
  }
}

const CODES: Record<number, string> = { 413: 'PayloadTooLarge', 415: 'UnsupportedMediaType' };

/** Express error middleware: the parsers' client errors get an answer here, anything else goes on. */
export function bodyParserErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const e = (err ?? {}) as ParserError;
  const status = e.status;
  if (
    typeof e.type !== 'string' ||
    e.expose !== true ||
    typeof status !== 'number' ||
    status < 400 ||
    status > 499
  ) {
    next(err);
    return;
  }
  res.status(status).json({ code: CODES[status] ?? 'BadRequest', reason: reasonOf(e) });
}
