/**
 * Lists in pages: `?limit=N` answers at most N items and a top-level `continue` token while more
 * remain; `?continue=<token>` (with the same query) answers the next page. Without a limit, the whole
 * list. A token is opaque to callers: base64url JSON of where the next page starts (the last pool name
 * answered, or an offset into a timeline, which only grows at its end) and of the list it belongs to.
 */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { badRequest } from './http-errors.js';

export const MAX_PAGE_LIMIT = 1000;

export class PageQuery {
  @ApiPropertyOptional({
    description: `at most this many items (1 to ${MAX_PAGE_LIMIT}); the answer has a continue token while more remain`,
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    type: 'integer',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  @Max(MAX_PAGE_LIMIT, { message: `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'the continue token of the previous page' })
  @IsOptional()
  @IsString({ message: 'continue must be one token from a previous answer' })
  @MinLength(1, { message: 'continue must be one token from a previous answer' })
  continue?: string;
}

interface Cursor {
  /** the list the token belongs to */
  l: string;
  /** pools: the last name answered */
  after?: string;
  /** timelines: how many entries were answered before */
  o?: number;
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

const BAD_TOKEN = 'continue is not a token this list gave (ask again without it for the first page)';

function decode(token: string, list: string): Cursor {
  let c: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest(BAD_TOKEN);
  }
  if (typeof c !== 'object' || c === null || (c as Cursor).l !== list) throw badRequest(BAD_TOKEN);
  return c as Cursor;
}

export interface Page<T> {
  items: T[];
  continue?: string;
}

/** A page of `sorted` (ascending by `nameOf`), after the name in the token. */
export function pageByName<T>(sorted: T[], nameOf: (t: T) => string, q: PageQuery, list: string): Page<T> {
  let start = 0;
  if (q.continue !== undefined) {
    const after = decode(q.continue, list).after;
    if (typeof after !== 'string') throw badRequest(BAD_TOKEN);
    start = lowerBound(sorted, nameOf, after);
  }
  const end = q.limit === undefined ? sorted.length : Math.min(sorted.length, start + q.limit);
  const items = sorted.slice(start, end);
  return end < sorted.length && items.length > 0
    ? { items, continue: encode({ l: list, after: nameOf(items[items.length - 1]) }) }
    : { items };
}

/** The first index whose name is after `name`. */
function lowerBound<T>(sorted: T[], nameOf: (t: T) => string, name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (nameOf(sorted[mid]) <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A page of a timeline (oldest first, only ever appended to), from the offset in the token. */
export function pageByOffset<T>(all: T[], q: PageQuery, list: string): Page<T> {
  let start = 0;
  if (q.continue !== undefined) {
    const o = decode(q.continue, list).o;
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) throw badRequest(BAD_TOKEN);
    start = Math.min(o, all.length);
  }
  const end = q.limit === undefined ? all.length : Math.min(all.length, start + q.limit);
  const items = all.slice(start, end);
  return end < all.length ? { items, continue: encode({ l: list, o: end }) } : { items };
}
