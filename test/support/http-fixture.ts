/**
 * The service fixture (./service-fixture.ts) with its HTTP edge: the service must listen on the loopback
 * interface, and `http` sends one request whose answer must match the OpenAPI document the service
 * serves (./openapi-responses.ts), the document and its page themselves aside.
 */
import { ResponseChecker, type OpenApiDocument } from './openapi-responses.js';
import { serviceFixture, type ServiceFixture } from './service-fixture.js';

type Json = Record<string, unknown>;

export interface HttpReply<T> {
  status: number;
  contentType: string;
  text: string;
  /** the parsed JSON body (the text when the answer is not JSON) */
  body: T;
}

/** `json` is sent as application/json, `body` as is with `type`. */
export interface HttpRequestOptions {
  json?: unknown;
  body?: string;
  type?: string;
}

export interface HttpFixture extends ServiceFixture {
  /** the service's base URL, http://127.0.0.1:<port> */
  base: string;
  checker: ResponseChecker;
  http<T = Json>(method: string, path: string, opts?: HttpRequestOptions): Promise<HttpReply<T>>;
}

export async function httpFixture(
  stream: string,
  name: string,
  opts: { env?: Record<string, string>; idPrefix?: string } = {},
): Promise<HttpFixture> {
  const f = await serviceFixture(stream, name, opts);
  try {
    const base = f.service.httpUrl;
    // nothing here may reach beyond the loopback interface
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) throw new Error(`the service listens on ${base}`);
    const doc = await fetch(`${base}/openapi.json`);
    const checker = new ResponseChecker((await doc.json()) as OpenApiDocument);
    return {
      ...f,
      base,
      checker,
      async http<T = Json>(method: string, path: string, o: HttpRequestOptions = {}): Promise<HttpReply<T>> {
        const headers: Record<string, string> = {};
        let body: string | undefined;
        if (o.json !== undefined) {
          body = JSON.stringify(o.json);
          headers['content-type'] = 'application/json';
        }
        if (o.body !== undefined) body = o.body;
        if (o.type !== undefined) headers['content-type'] = o.type;
        const r = await fetch(`${base}${path}`, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(20_000),
        });
        const text = await r.text();
        const contentType = r.headers.get('content-type') ?? '';
        const parsed: unknown = /^application\/(problem\+)?json/.test(contentType) ? JSON.parse(text) : text;
        if (!/^\/(openapi\.json|docs)/.test(path)) {
          checker.check({ method, url: path, status: r.status, contentType, body: parsed });
        }
        return { status: r.status, contentType, text, body: parsed as T };
      },
    };
  } catch (err) {
    await f.stop();
    throw err;
  }
}

/** An RFC 9457 problem: the status, the code (and the type named after it), the detail, other members. */
export function problem(
  status: number,
  code: string,
  detail: unknown = expect.any(String),
  members: Json = {},
) {
  return {
    type: `https://ipam.dev/problems/${code}`,
    title: expect.any(String),
    status,
    detail,
    code,
    ...members,
  };
}
