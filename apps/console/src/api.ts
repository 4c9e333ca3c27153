/**
 * The HTTP API as the console uses it: JSON (or YAML) over fetch, the bearer token when signed in, and
 * every error answer (an RFC 9457 problem, or the older {code, reason}) as an ApiError with its code and
 * what the service said.
 */
import { reactive } from 'vue';

export interface Principal {
  name: string;
  role: string;
  /** how it was authenticated: token, oidc, or none (the API has no authentication) */
  via?: string;
}

const TOKEN_KEY = 'ipam.console.token';

function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export const session = reactive({
  token: storedToken(),
  /** the API answered 401: the console shows the sign-in form */
  needsSignIn: false,
  /** what the API said with its 401 */
  authMessage: '',
  /** the caller as GET /v1/whoami answers it; null when unknown (or the API has no whoami) */
  user: null as Principal | null,
  /** bumped on every sign-in and sign-out: pages load again */
  epoch: 0,
});

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> | null,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
  }
}

/** The error of a failed call, whatever was thrown (a network failure becomes code NetworkError). */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'NetworkError', `the service could not be reached (${String(e)})`, null);
}

export interface CallOptions {
  json?: unknown;
  /** a YAML document sent as it is (application/yaml) */
  yaml?: string;
  signal?: AbortSignal;
}

export function authHeaders(): Record<string, string> {
  return session.token ? { Authorization: `Bearer ${session.token}` } : {};
}

const STATUS_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'PayloadTooLarge',
  422: 'Rejected',
  503: 'Unavailable',
  504: 'OutcomeTimeout',
};

async function errorOf(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> | null = null;
  const text = await res.text();
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    body = null;
  }
  const code = typeof body?.code === 'string' ? body.code : (STATUS_CODES[res.status] ?? `HTTP${res.status}`);
  const detail =
    typeof body?.detail === 'string'
      ? body.detail
      : typeof body?.reason === 'string'
        ? body.reason
        : typeof body?.message === 'string'
          ? body.message
          : text.slice(0, 300) || res.statusText;
  return new ApiError(res.status, code, detail, body);
}

/** One call to the API; resolves with the JSON answer, rejects with an ApiError. */
export async function api<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.yaml !== undefined) {
    headers['Content-Type'] = 'application/yaml';
    body = opts.yaml;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, credentials: 'same-origin' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw asApiError(e);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) {
      session.needsSignIn = true;
      session.authMessage = err.detail;
    }
    throw err;
  }
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => api<T>('GET', path, { signal });

/** Asks who the caller is; a 404 means an API without authentication (nothing to sign in to). */
export async function whoami(): Promise<void> {
  try {
    session.user = await get<Principal>('/v1/whoami');
    session.needsSignIn = false;
  } catch (e) {
    const err = asApiError(e);
    if (err.status === 404) session.user = null;
    else if (err.status !== 401) session.user = null;
  }
}

/** Signs in with a bearer token: kept for this browser tab only (sessionStorage). */
export async function signIn(token: string): Promise<ApiError | null> {
  const previous = session.token;
  session.token = token.trim();
  try {
    session.user = await get<Principal>('/v1/whoami');
  } catch (e) {
    const err = asApiError(e);
    if (err.status !== 404) {
      session.token = previous;
      session.needsSignIn = true;
      return err;
    }
    session.user = null;
  }
  try {
    sessionStorage.setItem(TOKEN_KEY, session.token);
  } catch {
    // storage refused (private mode): the token lasts until the page is left
  }
  session.needsSignIn = false;
  session.authMessage = '';
  session.epoch++;
  return null;
}

export function signOut(): void {
  session.token = '';
  session.user = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
  session.epoch++;
  void whoami().then(() => {
    if (!session.user) session.needsSignIn = true;
  });
}

export const enc = encodeURIComponent;
