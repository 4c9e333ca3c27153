/**
 * Bearer tokens to principals: a token of the tokens file (looked up by its SHA-256, so the file holds
 * no secret and the lookup does not depend on the token's text), or an OIDC JWT verified against the
 * issuer's JWKS with `jose` (signature, issuer, audience, expiry), its subject the name and a claim the
 * role.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { HttpAuthSettings, OidcSettings } from './auth.config.js';
import { isRole, ROLES, type Principal, type Role } from './roles.js';

/** Why a request is not authenticated (401), or is but has no role at all (403). */
export class AuthError extends Error {
  constructor(
    readonly code: 'Unauthorized' | 'Forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

const ANONYMOUS_ADMIN: Principal = { name: 'anonymous', role: 'admin', via: 'none' };

/** The highest known role named by a claim (a text or a list of texts), or null. */
function roleOf(claim: unknown): Role | null {
  const named = Array.isArray(claim) ? claim : [claim];
  let best: Role | null = null;
  for (const r of named) {
    if (isRole(r) && (best === null || ROLES.indexOf(r) > ROLES.indexOf(best))) best = r;
  }
  return best;
}

class OidcVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  private discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  constructor(private readonly settings: OidcSettings) {}

  /** The JWKS, from IPAM_OIDC_JWKS_URL or the issuer's discovery document (fetched once it works). */
  private keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return Promise.resolve(this.jwks);
    this.discovering ??= this.discover().then(
      (url) => (this.jwks = createRemoteJWKSet(new URL(url))),
      (e) => {
        this.discovering = null;
        throw e;
      },
    );
    return this.discovering;
  }

  private async discover(): Promise<string> {
    if (this.settings.jwksUrl) return this.settings.jwksUrl;
    const url = `${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`OIDC discovery ${url} answered ${res.status}`);
    const doc = (await res.json()) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== 'string') throw new Error(`OIDC discovery ${url} names no jwks_uri`);
    return doc.jwks_uri;
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
      }));
    } catch (e) {
      if (e instanceof joseErrors.JOSEError) throw new AuthError('Unauthorized', `the token was refused: ${e.message}`);
      throw new AuthError('Unauthorized', `the token cannot be checked now: ${(e as Error).message}`);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new AuthError('Unauthorized', 'the token has no subject (sub)');
    }
    const role = roleOf(payload[this.settings.roleClaim]);
    if (role === null) {
      throw new AuthError(
        'Forbidden',
        `the token of ${payload.sub} names no role in its ${this.settings.roleClaim} claim (viewer, operator or admin)`,
      );
    }
    return { name: payload.sub, role, via: 'oidc' };
  }
}

export class Authenticator {
  private readonly byDigest: Map<string, Principal>;
  private readonly oidc: OidcVerifier | null;

  constructor(readonly settings: HttpAuthSettings) {
    this.byDigest = new Map(
      settings.tokens.map((t) => [t.tokenSha256, { name: t.name, role: t.role, via: 'token' as const }]),
    );
    this.oidc = settings.oidc ? new OidcVerifier(settings.oidc) : null;
  }

  get enabled(): boolean {
    return !this.settings.disabled;
  }

  /** The principal of an Authorization header; throws AuthError. With authentication off, anyone is admin. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (this.settings.disabled) return ANONYMOUS_ADMIN;
    if (authorization === undefined || authorization === '') {
      throw new AuthError('Unauthorized', 'send Authorization: Bearer <token>');
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new AuthError('Unauthorized', 'the Authorization header must be "Bearer <token>"');
    return this.principalOf(m[1]);
  }

  /** The principal of a bearer token; throws AuthError. */
  async principalOf(token: string): Promise<Principal> {
    const known = this.byDigest.get(createHash('sha256').update(token).digest('hex'));
    if (known) return known;
    // a JWT has three base64url parts; anything else can only have been a (wrong) static token
    if (this.oidc && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return this.oidc.verify(token);
    throw new AuthError('Unauthorized', 'the token is not known');
  }
}
