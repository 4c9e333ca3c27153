/**
 * The HTTP authentication settings, read and checked at start with the rest of the configuration:
 * a tokens file (names, roles and SHA-256 digests of bearer tokens, so the file holds no secret),
 * OIDC (JWTs verified against the issuer's JWKS), which parts are open, and whether an API without
 * authentication may listen beyond loopback.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { isRole, PUBLIC_PARTS, type PublicPart, type Role } from './roles.js';

export interface TokenEntry {
  name: string;
  role: Role;
  /** lower-case hex SHA-256 of the token */
  tokenSha256: string;
}

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** the claim that holds the role (a string, or a list whose highest known role counts) */
  roleClaim: string;
  /** the JWKS; by default the jwks_uri of the issuer's discovery document */
  jwksUrl?: string;
}

export interface HttpAuthSettings {
  tokens: TokenEntry[];
  oidc: OidcSettings | null;
  /** parts served without a token */
  open: PublicPart[];
  /** true when no way to authenticate is configured: every request is served as admin */
  disabled: boolean;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Reads the tokens file; every problem is pushed to `problems` with the entry it concerns. */
export function readTokensFile(path: string, problems: string[]): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push(`IPAM_HTTP_TOKENS_FILE cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)} (${path})`);
    return [];
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    problems.push(`IPAM_HTTP_TOKENS_FILE is neither YAML nor JSON: ${(e as Error).message.split('\n')[0]}`);
    return [];
  }
  const list = Array.isArray(doc) ? doc : (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) {
    problems.push('IPAM_HTTP_TOKENS_FILE must hold a list of {name, role, tokenSha256}');
    return [];
  }
  const out: TokenEntry[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const where = `IPAM_HTTP_TOKENS_FILE entry ${i + 1}`;
    if (typeof e.name !== 'string' || e.name.trim() === '') return problems.push(`${where}: name must be a non-empty text`);
    if (!isRole(e.role)) return problems.push(`${where} (${e.name}): role must be viewer, operator or admin`);
    if (typeof e.tokenSha256 !== 'string' || !HEX64.test(e.tokenSha256)) {
      return problems.push(`${where} (${e.name}): tokenSha256 must be the 64 hex digits of the token's SHA-256 (sha256sum)`);
    }
    const digest = e.tokenSha256.toLowerCase();
    if (names.has(e.name)) return problems.push(`${where}: the name ${e.name} appears twice`);
    if (digests.has(digest)) return problems.push(`${where} (${e.name}): the same token is listed twice`);
    names.add(e.name);
    digests.add(digest);
    out.push({ name: e.name, role: e.role, tokenSha256: digest });
  });
  return out;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

export interface HttpAuthEnv {
  IPAM_HTTP_TOKENS_FILE?: string;
  IPAM_OIDC_ISSUER?: string;
  IPAM_OIDC_AUDIENCE?: string;
  IPAM_OIDC_ROLE_CLAIM?: string;
  IPAM_OIDC_JWKS_URL?: string;
  IPAM_HTTP_PUBLIC?: string;
  IPAM_HTTP_INSECURE?: string;
  HTTP_HOST?: string;
}

/** The names of the settings above, for the configuration loader. */
export const HTTP_AUTH_ENV_KEYS = [
  'IPAM_HTTP_TOKENS_FILE',
  'IPAM_OIDC_ISSUER',
  'IPAM_OIDC_AUDIENCE',
  'IPAM_OIDC_ROLE_CLAIM',
  'IPAM_OIDC_JWKS_URL',
  'IPAM_HTTP_PUBLIC',
  'IPAM_HTTP_INSECURE',
] as const;

/**
 * The authentication settings and the HTTP host to bind: with no authentication, loopback only (a
 * non-loopback HTTP_HOST is refused unless IPAM_HTTP_INSECURE=true); with it, HTTP_HOST or every
 * interface.
 */
export function readHttpAuth(env: HttpAuthEnv, problems: string[]): { auth: HttpAuthSettings; host: string } {
  const tokens = env.IPAM_HTTP_TOKENS_FILE ? readTokensFile(env.IPAM_HTTP_TOKENS_FILE, problems) : [];
  let oidc: OidcSettings | null = null;
  if (env.IPAM_OIDC_ISSUER || env.IPAM_OIDC_AUDIENCE) {
    if (!env.IPAM_OIDC_ISSUER || !env.IPAM_OIDC_AUDIENCE) {
      problems.push('IPAM_OIDC_ISSUER and IPAM_OIDC_AUDIENCE go together: set both, or neither');
    } else {
      for (const [key, value] of [
        ['IPAM_OIDC_ISSUER', env.IPAM_OIDC_ISSUER],
        ['IPAM_OIDC_JWKS_URL', env.IPAM_OIDC_JWKS_URL],
      ] as const) {
        if (value === undefined) continue;
        const url = URL.canParse(value) ? new URL(value) : null;
        if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
          problems.push(`${key} must be an http(s) URL (got ${JSON.stringify(value)})`);
        }
      }
      oidc = {
        issuer: env.IPAM_OIDC_ISSUER,
        audience: env.IPAM_OIDC_AUDIENCE,
        roleClaim: env.IPAM_OIDC_ROLE_CLAIM || 'ipam_role',
        ...(env.IPAM_OIDC_JWKS_URL ? { jwksUrl: env.IPAM_OIDC_JWKS_URL } : {}),
      };
    }
  }
  const open: PublicPart[] = [];
  for (const part of (env.IPAM_HTTP_PUBLIC ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    if ((PUBLIC_PARTS as readonly string[]).includes(part)) open.push(part as PublicPart);
    else problems.push(`IPAM_HTTP_PUBLIC lists ${JSON.stringify(part)}; it may list ${PUBLIC_PARTS.join(', ')}`);
  }
  const insecure = env.IPAM_HTTP_INSECURE ?? 'false';
  if (insecure !== 'true' && insecure !== 'false') {
    problems.push(`IPAM_HTTP_INSECURE must be true or false (got ${JSON.stringify(insecure)})`);
  }
  const disabled = tokens.length === 0 && oidc === null && !env.IPAM_HTTP_TOKENS_FILE;
  let host = env.HTTP_HOST ?? (disabled ? '127.0.0.1' : '0.0.0.0');
  if (disabled && !isLoopback(host) && insecure !== 'true') {
    problems.push(
      `HTTP_HOST=${host} would let anyone who reaches it create and delete pools: no authentication is configured. ` +
        'Set IPAM_HTTP_TOKENS_FILE or IPAM_OIDC_ISSUER and IPAM_OIDC_AUDIENCE, or IPAM_HTTP_INSECURE=true to accept that',
    );
    host = '127.0.0.1';
  }
  return { auth: { tokens, oidc, open, disabled }, host };
}
