/**
 * `ipam diff -f FILE`: for each IPPool of the files, a unified diff of the live pool's canonical spec
 * against the one the file gives (as the service would read it), kubectl diff's way: exit 0 without
 * differences, 1 with some, 2 and more on errors. Nothing is published.
 */
import { stringify } from 'yaml';
import { IpamError, parsePool } from '../../../../libs/ipam-domain/src/index.js';
import { QUERY_SUBJECTS } from '../../../../libs/ipam-contract/src/index.js';
import { parseDocuments, readSource } from '../documents.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, println, UsageError } from '../io.js';
import { isQueryError, withClient } from '../nats-client.js';
import { GLOBAL_HELP, noMorePositionals, parseCommand, strs } from '../options.js';

export const DIFF_USAGE = `Usage: ipam diff -f FILE [-f FILE ...]

Shows, for each IPPool object of the files, how it differs from the pool the service has: a unified
diff (--- live/ippool/NAME, +++ file/ippool/NAME) of the two specs in canonical form (as the service
reads them: ranges, exclusions and scope normalised, unknown fields dropped). A pool the service does
not have is diffed against nothing. Nothing is published. Exits 0 when nothing differs, 1 when
something does, 2 or more on errors (as kubectl diff does).

Options:
  -f, --filename FILE  file to compare (repeatable; - for stdin)
${GLOBAL_HELP}`;

/** The lines of an IPPool in canonical form, as YAML. */
function canonicalLines(name: string, spec: unknown): string[] {
  const text = stringify({
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name },
    spec,
  });
  return text.replace(/\n$/, '').split('\n');
}

/**
 * A unified diff of two line lists (longest common subsequence; pools are small): the lines with
 * " ", "-" or "+" in one hunk covering both; [] when they are equal.
 */
export function unifiedDiff(a: string[], b: string[], fromName: string, toName: string): string[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const body: string[] = [];
  let i = 0;
  let j = 0;
  let changed = false;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      body.push(` ${a[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // deletions before additions, as diff -u prints them
      body.push(`-${a[i++]}`);
      changed = true;
    } else {
      body.push(`+${b[j++]}`);
      changed = true;
    }
  }
  if (!changed) return [];
  const range = (len: number) => (len === 0 ? '0,0' : `1,${len}`);
  return [`--- ${fromName}`, `+++ ${toName}`, `@@ -${range(n)} +${range(m)} @@`, ...body];
}

export async function diffCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(
    args,
    { filename: { type: 'string', short: 'f', multiple: true } },
    io,
    DIFF_USAGE,
    'diff',
  );
  if (!p) return EXIT_OK;
  noMorePositionals(p.positionals, 0, 'diff');
  const files = strs(p.values, 'filename');
  if (files.length === 0) throw new UsageError('give the objects with -f FILE (-f - reads stdin)', 'diff');
  if (files.filter((f) => f === '-').length > 1)
    throw new UsageError('-f - (stdin) can be given once', 'diff');
  const objects = [];
  for (const f of files) objects.push(...parseDocuments(await readSource(f, io), f === '-' ? 'stdin' : f));
  if (objects.length === 0) throw new CliError(`no objects found in ${files.join(', ')}`);
  // every object must read as a pool before anything is asked
  const pools = objects.map(({ value, where }) => {
    const { status: _status, ...body } = (value ?? {}) as Record<string, unknown>;
    try {
      return parsePool(body);
    } catch (e) {
      if (e instanceof IpamError) throw new CliError(`${where}: ${e.code}: ${e.reason}`);
      throw e;
    }
  });
  return withClient(p.global, io, async (client) => {
    let differs = false;
    for (const local of pools) {
      const live = await client.query('pool', { name: local.name });
      let before: string[] = [];
      if (isQueryError(live)) {
        if (live.error.code !== 'UnknownPool')
          throw new CliError(
            `${QUERY_SUBJECTS.pool} for "${local.name}": ${live.error.code}: ${live.error.reason}`,
          );
      } else {
        before = canonicalLines(
          local.name,
          parsePool({ metadata: { name: local.name }, spec: live.spec }).spec,
        );
      }
      const after = canonicalLines(local.name, local.spec);
      const lines = unifiedDiff(
        before,
        after,
        isQueryError(live) ? '/dev/null' : `live/ippool/${local.name}`,
        `file/ippool/${local.name}`,
      );
      if (lines.length > 0) differs = true;
      for (const line of lines) println(io.stdout, line);
    }
    return differs ? EXIT_FAILED : EXIT_OK;
  });
}
