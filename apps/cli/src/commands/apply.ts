/**
 * `ipam apply -f FILE`: create or update IPPools, kubectl-style. For each object: is there a pool of
 * that name (ipam.query.pool)? With the identical canonical spec: `unchanged`, nothing published.
 * Otherwise PoolCreated or PoolUpdated is published and its outcome awaited.
 */
import {
  canonicalSpecKey,
  IpamError,
  parsePool,
  unknownPoolFields,
} from '../../../../libs/ipam-domain/src/index.js';
import { QUERY_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';
import { readSource, parseDocuments, SourceObject } from '../documents.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, println, UsageError } from '../io.js';
import { CliClient, isQueryError, withClient, type Outcome } from '../nats-client.js';
import { GLOBAL_HELP, noMorePositionals, parseCommand, str, strs } from '../options.js';
import type { AffectedLoadBalancer } from '../../../../libs/ipam-client/src/index.js';

export const APPLY_USAGE = `Usage: ipam apply -f FILE [-f FILE ...] [--dry-run=server]

Creates or updates IP pools from IPPool objects (docs/semantics.md section 1). FILE is YAML (several
documents separated by ---) or JSON (an object, an array, or {"items": [...]}); -f - reads stdin.
A pool that exists with the identical spec is left unchanged; otherwise PoolCreated or PoolUpdated is
published and its outcome awaited. Prints one line per pool:
  ippool/NAME created | updated | unchanged | rejected: CODE: reason
Fields an IPPool does not have are dropped; each is named in a "Warning: ..." line on stderr before
its pool's line (docs/semantics.md). Exits 1 if any pool was rejected.

With --dry-run=server nothing is published: the service says what each pool would get now
(ipam.query.whatif), "(server dry run)" after each line, and for an update or delete of a pool the
load balancers it would affect, one indented line each: loadbalancer/NS/NAME IP POOL EFFECT.

Options:
  -f, --filename FILE  file to apply (repeatable; - for stdin)
  --dry-run=MODE       server: ask the service what would happen, publish nothing; none: apply (default)
${GLOBAL_HELP}`;

export type ApplyResult = (
  | { name: string; result: 'created' | 'updated' | 'unchanged'; seq?: number; warnings?: string[] }
  | { name: string; result: 'rejected'; code: string; reason: string; seq?: number }
) & { affected?: AffectedLoadBalancer[] };

const POOL_QUERY = QUERY_SUBJECTS.pool;

/** The line printed for a result (rejections go to stderr). */
export function resultLine(r: ApplyResult): string {
  return r.result === 'rejected'
    ? `ippool/${r.name} rejected: ${r.code}: ${r.reason}`
    : `ippool/${r.name} ${r.result}`;
}

/** Maps a pool outcome (accepted/rejected) to a result. */
export function poolOutcomeResult(name: string, outcome: Outcome, seq: number): ApplyResult {
  const b = outcome.body as { change?: unknown; code?: unknown; reason?: unknown; name?: unknown };
  if (outcome.subject === 'ipam.pool.accepted') {
    const result = b.change === 'updated' ? 'updated' : 'created';
    return { name, result, seq, ...warningsOf((b as { warnings?: unknown }).warnings) };
  }
  if (outcome.subject === 'ipam.pool.rejected') {
    return {
      name,
      result: 'rejected',
      code: String(b.code ?? 'Rejected'),
      reason: String(b.reason ?? ''),
      seq,
    };
  }
  return {
    name,
    result: 'rejected',
    code: 'UnexpectedOutcome',
    reason: `the service answered ${outcome.subject}`,
    seq,
  };
}

/** The `warnings` of an outcome (or of the local check), when there are any. */
function warningsOf(list: unknown): { warnings?: string[] } {
  return Array.isArray(list) && list.length > 0 ? { warnings: list.map(String) } : {};
}

function nameOf(value: unknown, where: string): string {
  const n = (value as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof n === 'string' && n !== '' ? n : `(${where})`;
}

/**
 * Applies one object; never throws for a rejection, only for failures talking to NATS. With `dryRun`,
 * publishes nothing: the service's what-if answers instead (with the load balancers it would affect).
 */
export async function applyPool(
  client: CliClient,
  source: SourceObject,
  dryRun = false,
): Promise<ApplyResult> {
  const { value, where } = source;
  const name = nameOf(value, where);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      name,
      result: 'rejected',
      code: 'InvalidEvent',
      reason: `${where} is not an object; give IPPool objects.`,
    };
  }
  const { status: _status, ...body } = value as Record<string, unknown>;
  if (body.kind !== undefined && body.kind !== 'IPPool') {
    return {
      name,
      result: 'rejected',
      code: 'InvalidEvent',
      reason: `${where}: kind "${String(body.kind)}" is not supported; ipam apply takes IPPool objects.`,
    };
  }
  // The service would reject what does not parse, with the same words: say so without publishing.
  let local;
  try {
    local = parsePool(body);
  } catch (e) {
    if (e instanceof IpamError) return { name, result: 'rejected', code: e.code, reason: e.reason };
    throw e;
  }
  const existing = await client.query('pool', { name: local.name });
  let subject: 'ipam.pool.created' | 'ipam.pool.updated' = 'ipam.pool.created';
  if (isQueryError(existing)) {
    if (existing.error.code !== 'UnknownPool') {
      throw new CliError(
        `${POOL_QUERY} for "${local.name}": ${existing.error.code}: ${existing.error.reason}`,
      );
    }
  } else {
    subject = 'ipam.pool.updated';
    try {
      const current = parsePool({ metadata: { name: local.name }, spec: existing.spec });
      if (canonicalSpecKey(current.spec) === canonicalSpecKey(local.spec))
        return { name: local.name, result: 'unchanged', ...warningsOf(unknownPoolFields(body)) };
    } catch (e) {
      if (!(e instanceof IpamError)) throw e;
    }
  }
  if (dryRun) {
    const w = await client.query('whatif', { subject, body });
    if (isQueryError(w)) throw new CliError(`${QUERY_SUBJECTS.whatif}: ${w.error.code}: ${w.error.reason}`);
    const r = poolOutcomeResult(local.name, { subject: w.subject, body: w.body } as Outcome, 0);
    delete r.seq;
    return w.affected.length > 0 ? { ...r, affected: w.affected } : r;
  }
  const { seq, outcome } = await client.publishAndWait(subject, body);
  return poolOutcomeResult(local.name, outcome, seq);
}

export async function applyCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(
    args,
    { filename: { type: 'string', short: 'f', multiple: true }, 'dry-run': { type: 'string' } },
    io,
    APPLY_USAGE,
    'apply',
  );
  if (!p) return EXIT_OK;
  noMorePositionals(p.positionals, 0, 'apply');
  const mode = str(p.values, 'dry-run') ?? 'none';
  if (mode !== 'none' && mode !== 'server')
    throw new UsageError(
      `--dry-run must be server or none, not "${mode}" (there is no client dry run)`,
      'apply',
    );
  const dryRun = mode === 'server';
  const suffix = dryRun ? ' (server dry run)' : '';
  const files = strs(p.values, 'filename');
  if (files.length === 0) throw new UsageError('give the objects with -f FILE (-f - reads stdin)', 'apply');
  if (files.filter((f) => f === '-').length > 1)
    throw new UsageError('-f - (stdin) can be given once', 'apply');
  // Read and parse everything first: a broken file publishes nothing.
  const objects: SourceObject[] = [];
  for (const f of files) objects.push(...parseDocuments(await readSource(f, io), f === '-' ? 'stdin' : f));
  if (objects.length === 0) throw new CliError(`no objects found in ${files.join(', ')}`);
  return withClient(p.global, io, async (client) => {
    let rejected = 0;
    for (const o of objects) {
      const r = await applyPool(client, o, dryRun);
      if (r.result === 'rejected') {
        rejected++;
        println(io.stderr, resultLine(r) + suffix);
      } else {
        for (const w of r.warnings ?? []) println(io.stderr, `Warning: ${w}`);
        println(io.stdout, resultLine(r) + suffix);
      }
      for (const a of r.affected ?? [])
        println(io.stdout, `  loadbalancer/${a.loadBalancer} ${a.ip} ${a.ipPool} ${a.effect}`);
    }
    return rejected > 0 ? EXIT_FAILED : EXIT_OK;
  });
}
