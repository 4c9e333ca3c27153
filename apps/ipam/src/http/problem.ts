/**
 * Every HTTP error is an RFC 9457 problem (`application/problem+json`):
 *
 *   { "type": "https://ipam.dev/problems/UnknownPool", "title": "Unknown pool", "status": 404,
 *     "detail": "pool \"nope\" does not exist.", "code": "UnknownPool", ...extension members }
 *
 * `code` is the stable machine word (the same words as the outcomes' codes); `type` is
 * PROBLEM_TYPE_BASE + code, an identifier of the problem type (not a page to fetch); `title` is the
 * code in words, the same for every occurrence; `detail` says what happened this time. Extension members
 * carry what the caller can act on: `seq` for 504 OutcomeTimeout, a rejection's fields for 422.
 *
 * The application throws an ApiProblem with a code; the edge (problem.filter.ts, and body-errors.ts for
 * the body parsers) turns it into the answer, its status from STATUS_BY_CODE.
 */

export const PROBLEM_TYPE_BASE = 'https://ipam.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The status of each code the HTTP layer itself says (a rejection outcome's code is always 422). */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  BadRequest: 400,
  InvalidEvent: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  UnknownPool: 404,
  UnknownLoadBalancer: 404,
  MethodNotAllowed: 405,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  InternalError: 500,
  Unavailable: 503,
  NotReady: 503,
  OutcomeTimeout: 504,
};

/** The status of a rejection outcome's answer, whatever its code. */
export const REJECTED_STATUS = 422;

/** The code of an error that carries only a status (Nest's router, a body parser). */
export function codeOfStatus(status: number): string {
  const known = Object.entries(STATUS_BY_CODE).find(([, s]) => s === status);
  if (known) return known[0];
  return status >= 500 ? 'InternalError' : 'BadRequest';
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** The code in words: "UnknownLoadBalancer" -> "Unknown load balancer" (an all-capitals word stays). */
export function titleOf(code: string): string {
  const words = code.split(/(?<=[a-z0-9])(?=[A-Z])/);
  return words.map((w, i) => (i === 0 || /^[A-Z0-9]+$/.test(w) ? w : w.toLowerCase())).join(' ');
}

/** An error the HTTP layer answers as a problem: a code, what happened, and extension members. */
export class ApiProblem extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** set for a rejection outcome (422); otherwise the status comes from STATUS_BY_CODE */
    readonly rejection = false,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiProblem';
  }

  get status(): number {
    return this.rejection ? REJECTED_STATUS : (STATUS_BY_CODE[this.code] ?? 500);
  }

  toProblem(): Problem {
    return problem(this.code, this.status, this.detail, this.extensions);
  }
}

/** The body of a problem answer; extension members never replace the standard ones. */
export function problem(
  code: string,
  status: number,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const p: Problem = { type: `${PROBLEM_TYPE_BASE}${code}`, title: titleOf(code), status, detail, code };
  for (const [k, v] of Object.entries(extensions)) if (!(k in p)) p[k] = v;
  return p;
}

/** Something that can answer (express's Response): the problem with its status and content type. */
export interface ProblemSink {
  status(code: number): this;
  type(contentType: string): this;
  send(body: string): unknown;
}

export function sendProblem(res: ProblemSink, p: Problem): void {
  res.status(p.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(p));
}
