/**
 * `ipam audit address IP` and `ipam audit lb NAMESPACE/NAME`: who held an address and when, what a load
 * balancer held and which requests were rejected (ipam.query.audit.*), optionally as of a time or a
 * stream sequence.
 */
import type { Holding, LoadBalancerEntry } from '../../../../libs/ipam-audit/src/index.js';
import { AddressSyntaxError, formatAddress, parseAddress } from '../../../../libs/ipam-domain/src/index.js';
import { CliError, CliIo, EXIT_OK, println, UsageError } from '../io.js';
import { isQueryError, withClient } from '../nats-client.js';
import {
  GLOBAL_HELP,
  noMorePositionals,
  outputFormat,
  parseCommand,
  parseLbKey,
  str,
  Values,
} from '../options.js';
import { printStructured, printTable } from '../output.js';

export const AUDIT_USAGE = `Usage:
  ipam audit address IP [--at TIME | --seq N] [-o json]
  ipam audit lb NAMESPACE/NAME [--at TIME | --seq N] [-o json]

From the stream's audit log: every holder of an address (load balancer, pool, from and to: time and
stream sequence), or every address a load balancer held and every rejection it got, oldest first.
With --at or --seq: only the holder of the address at that point, or the load balancer's entries up to
it.

Options:
  --at TIME            an RFC 3339 time, e.g. 2026-11-24T14:05:00Z
  --seq N              a stream sequence
  -o, --output json    the query's reply as JSON
${GLOBAL_HELP}`;

const OPTIONS = {
  at: { type: 'string' },
  seq: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

function asOf(values: Values): { at?: string; seq?: number } {
  const at = str(values, 'at');
  const seq = str(values, 'seq');
  if (at !== undefined && seq !== undefined)
    throw new UsageError('give either --at or --seq, not both', 'audit');
  if (at !== undefined) {
    if (
      !/^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)$/.test(at) ||
      Number.isNaN(Date.parse(at))
    ) {
      throw new UsageError(`--at "${at}" is not an RFC 3339 time such as 2026-11-24T14:05:00Z`, 'audit');
    }
    return { at };
  }
  if (seq !== undefined) {
    if (!/^\d+$/.test(seq) || Number(seq) < 1)
      throw new UsageError(`--seq "${seq}" is not a stream sequence (1 or more)`, 'audit');
    return { seq: Number(seq) };
  }
  return {};
}

function point(p: { seq: number; time: string } | null | undefined): [string, string] {
  return p ? [p.time, String(p.seq)] : ['-', '-'];
}

/** What else there is to say of a holding: history, now, forced, and who asked (when inputs said). */
function holdingNote(h: Holding): string {
  const notes: string[] = [];
  if (h.fromHistory) notes.push('from history');
  if (h.from.actor !== undefined) notes.push(`requested by ${h.from.actor}`);
  if (h.to === null) notes.push('holds it now');
  else if (h.to.forced) notes.push('force-released');
  if (h.to?.actor !== undefined) notes.push(`released by ${h.to.actor}`);
  return notes.join(', ');
}

export function holdersTable(holders: Holding[]): { headers: string[]; rows: string[][] } {
  return {
    headers: ['HOLDER', 'POOL', 'FROM', 'FROM-SEQ', 'TO', 'TO-SEQ', 'NOTE'],
    rows: holders.map((h) => [h.loadBalancer, h.ipPool, ...point(h.from), ...point(h.to), holdingNote(h)]),
  };
}

export function lbEntriesTable(entries: LoadBalancerEntry[]): { headers: string[]; rows: string[][] } {
  return {
    headers: ['EVENT', 'IP', 'POOL', 'FROM', 'FROM-SEQ', 'TO', 'TO-SEQ', 'NOTE'],
    rows: entries.map((e) =>
      e.kind === 'held'
        ? ['held', e.ip, e.ipPool, ...point(e.from), ...point(e.to), holdingNote(e)]
        : [
            'rejected',
            '-',
            '-',
            ...point(e.at),
            '-',
            '-',
            `${e.code}: ${e.reason}${e.at.actor !== undefined ? ` (requested by ${e.at.actor})` : ''}`,
          ],
    ),
  };
}

function when(q: { at?: string; seq?: number }): string {
  return q.at !== undefined ? ` at ${q.at}` : q.seq !== undefined ? ` at seq ${q.seq}` : '';
}

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, OPTIONS, io, AUDIT_USAGE, 'audit');
  if (!p) return EXIT_OK;
  const format = outputFormat(p.values, ['table', 'json'], 'audit');
  const [kind, target] = p.positionals;
  if (kind === undefined) throw new UsageError('say what to audit: address IP or lb NAMESPACE/NAME', 'audit');
  noMorePositionals(p.positionals, 2, 'audit');
  const at = asOf(p.values);
  if (kind === 'address' || kind === 'ip') {
    if (target === undefined) throw new UsageError('give the address to audit', 'audit');
    let ip: string;
    try {
      ip = formatAddress(parseAddress(target));
    } catch (e) {
      if (e instanceof AddressSyntaxError)
        throw new UsageError(`"${target}" is not an IP address: ${e.message}`, 'audit');
      throw e;
    }
    return withClient(p.global, io, async (client) => {
      const reply = await client.query('auditAddress', { ip, ...at });
      if (isQueryError(reply))
        throw new CliError(`ipam.query.audit.address: ${reply.error.code}: ${reply.error.reason}`);
      if (format === 'json') printStructured(io, 'json', reply);
      else if (reply.holders.length === 0) println(io.stdout, `No holder of ${ip} is recorded${when(at)}.`);
      else {
        const t = holdersTable(reply.holders);
        printTable(io.stdout, t.headers, t.rows);
      }
      return EXIT_OK;
    });
  }
  if (kind === 'lb' || kind === 'loadbalancer') {
    const lb = parseLbKey(target, 'audit');
    return withClient(p.global, io, async (client) => {
      const reply = await client.query('auditLoadBalancer', {
        namespace: lb.namespace,
        name: lb.name,
        ...at,
      });
      if (isQueryError(reply))
        throw new CliError(`ipam.query.audit.lb: ${reply.error.code}: ${reply.error.reason}`);
      if (format === 'json') printStructured(io, 'json', reply);
      else if (reply.entries.length === 0)
        println(io.stdout, `Nothing is recorded for loadbalancer/${lb.key}${when(at)}.`);
      else {
        const t = lbEntriesTable(reply.entries);
        printTable(io.stdout, t.headers, t.rows);
      }
      return EXIT_OK;
    });
  }
  throw new UsageError(`cannot audit "${kind}"; use address IP or lb NAMESPACE/NAME`, 'audit');
}
