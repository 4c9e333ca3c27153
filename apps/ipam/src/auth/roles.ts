/**
 * Who may do what over HTTP. Each role includes the ones before it:
 * viewer reads everything; operator also requests and releases load balancers; admin also writes
 * pools and force-releases addresses.
 */
import { SetMetadata } from '@nestjs/common';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether `held` includes `needed`. */
export function allows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The caller of a request, once authenticated. */
export interface Principal {
  /** a token's name, or a JWT's subject; the actor written into the inputs it publishes */
  name: string;
  role: Role;
  via: 'token' | 'oidc' | 'none';
}

export const REQUIRES_ROLE = 'ipam:requires-role';
/** The role an operation needs. Without it: viewer for GET and HEAD, admin for anything else. */
export const Requires = (role: Role) => SetMetadata(REQUIRES_ROLE, role);

export const OPEN = 'ipam:open';
/**
 * An operation open without a token: always (`'always'`, health probes) or when the setting
 * IPAM_HTTP_PUBLIC names it (`'metrics'`, `'docs'`).
 */
export const Open = (when: 'always' | PublicPart) => SetMetadata(OPEN, when);

export const PUBLIC_PARTS = ['metrics', 'docs'] as const;
export type PublicPart = (typeof PUBLIC_PARTS)[number];

/** The role an operation needs when it names none. */
export function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin';
}
