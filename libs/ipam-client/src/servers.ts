/**
 * Server lists as people write them: `nats://host:port`, comma-separated, with credentials in the URL
 * (`nats://user:pass@host:port`, or `nats://token@host:port`) as other NATS clients take them. The
 * NATS client for Node does not read credentials from URLs (it drops them, and a numeric password is
 * taken for the port), so they are taken out here and passed as user/password or token; the URLs the
 * connection sees, and every URL shown to a person, carry none.
 */
import { IpamClientError } from './errors.js';

/** Credentials found in server URLs. */
export type UrlCredentials = { user: string; pass: string } | { token: string };

export interface ParsedServers {
  /** the servers without credentials, as the NATS client takes them */
  servers: string[];
  /** the credentials written in the URLs (the same for every URL that has any), if any */
  credentials: UrlCredentials | null;
  /** the servers as they may be shown: passwords and tokens replaced by `***` */
  redacted: string[];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * One URL: its userinfo split off, up to the last `@` (a host never has one, and a password with an
 * unencoded `@` or `/` is still taken whole rather than shown as a host).
 */
function splitUrl(url: string): { scheme: string; userinfo: string | null; rest: string } {
  const scheme = SCHEME.exec(url)?.[1] ?? '';
  const afterScheme = url.slice(scheme.length);
  const at = afterScheme.lastIndexOf('@');
  if (at < 0) return { scheme, userinfo: null, rest: afterScheme };
  return { scheme, userinfo: afterScheme.slice(0, at), rest: afterScheme.slice(at + 1) };
}

function credentialsOf(userinfo: string): UrlCredentials {
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { token: decode(userinfo) };
  return { user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) };
}

function sameCredentials(a: UrlCredentials, b: UrlCredentials): boolean {
  if ('token' in a) return 'token' in b && a.token === b.token;
  return 'user' in b && a.user === b.user && a.pass === b.pass;
}

function redactUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`;
}

/**
 * Splits a server list (a comma-separated string or an array) into URLs without credentials, the
 * credentials, and URLs to show. Throws IpamClientError (`Config`) when two URLs carry different
 * credentials (one connection has one identity); the message shows no credential.
 */
export function parseServers(list: string | readonly string[]): ParsedServers {
  const items = (typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(',')))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const servers: string[] = [];
  const redacted: string[] = [];
  let credentials: UrlCredentials | null = null;
  for (const item of items) {
    const { scheme, userinfo, rest } = splitUrl(item);
    servers.push(`${scheme}${rest}`);
    if (userinfo === null) {
      redacted.push(item);
      continue;
    }
    redacted.push(`${scheme}${redactUserinfo(userinfo)}@${rest}`);
    const c = credentialsOf(userinfo);
    if (credentials !== null && !sameCredentials(credentials, c)) {
      throw new IpamClientError(
        'Config',
        `the server URLs carry different credentials (${redacted.join(',')}); one connection has one identity: write the same in each, or in one`,
      );
    }
    credentials = c;
  }
  return { servers, credentials, redacted };
}

/** `scheme://userinfo@` anywhere in a text; the userinfo runs to the last `@` before a delimiter. */
const URL_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s,"'<>]*)@/g;

/**
 * `text` with the password (or token) of every URL in it replaced by `***`:
 * `nats://user:pass@host:4222` -> `nats://user:***@host:4222`, `nats://token@host` -> `nats://***@host`.
 */
export function redactUrls(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(
    URL_USERINFO,
    (_m, scheme: string, userinfo: string) => `${scheme}${redactUserinfo(userinfo)}@`,
  );
}
