/**
 * Output formatting: kubectl-like tables, JSON and YAML, and the one-line forms of pools' ranges and
 * scopes.
 */
import { stringify as toYamlText } from 'yaml';
import {
  formatAddress,
  parsePool,
  type PoolSpec,
  type ScopeTuple,
} from '../../../libs/ipam-domain/src/index.js';
import { CliIo, println, Writer } from './io.js';
import type { StructuredFormat } from './options.js';

/** Left-aligned columns separated by three spaces; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : (cell ?? '').padEnd(widths[i])))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function printTable(w: Writer, headers: string[], rows: string[][]): void {
  println(w, table(headers, rows));
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function toYaml(value: unknown): string {
  return toYamlText(value, { lineWidth: 0 }).trimEnd();
}

/** Prints `value` as JSON or YAML (for -o json|yaml). */
export function printStructured(io: CliIo, format: StructuredFormat, value: unknown): void {
  println(io.stdout, format === 'json' ? toJson(value) : toYaml(value));
}

export const NONE = '<none>';

/** A scope tuple as `project=..,namespace=..,cluster=..` (fields that are "" left out); all "*" is `*`. */
export function formatScope(scope: ScopeTuple[] | undefined): string {
  if (!scope || scope.length === 0) return NONE;
  return scope
    .map((t) => {
      if (t.project === '*' && t.namespace === '*' && t.guestCluster === '*') return '*';
      const parts: string[] = [];
      if (t.project !== '') parts.push(`project=${t.project}`);
      if (t.namespace !== '') parts.push(`namespace=${t.namespace}`);
      if (t.guestCluster !== '') parts.push(`cluster=${t.guestCluster}`);
      return parts.length === 0 ? '(all empty)' : parts.join(',');
    })
    .join('; ');
}

/**
 * The ranges of a spec on one line: a range with rangeStart or rangeEnd is shown as `start-end` (the
 * effective bounds), one without as its subnet; `withSubnet` adds the subnet to the former.
 */
export function formatRanges(name: string, spec: PoolSpec, withSubnet = false): string {
  let defs: ReturnType<typeof parsePool>['ranges'] | null = null;
  try {
    defs = parsePool({ metadata: { name }, spec }).ranges;
  } catch {
    defs = null;
  }
  return spec.ranges
    .map((r, i) => {
      if (r.rangeStart === undefined && r.rangeEnd === undefined) return r.subnet;
      const d = defs?.[i];
      const start = d ? formatAddress(d.start) : (r.rangeStart ?? '');
      const end = d ? formatAddress(d.end) : (r.rangeEnd ?? '');
      return withSubnet ? `${start}-${end} (${r.subnet})` : `${start}-${end}`;
    })
    .join(',');
}

/** `used/total` from a pool status (counts may be decimal strings for IPv6 sizes). */
export function usedOfTotal(status: { total?: unknown; available?: unknown } | undefined): string {
  const total = status?.total;
  const avail = status?.available;
  if (
    (typeof total !== 'number' && typeof total !== 'string') ||
    (typeof avail !== 'number' && typeof avail !== 'string')
  ) {
    return '?';
  }
  try {
    return `${(BigInt(total) - BigInt(avail)).toString()}/${BigInt(total).toString()}`;
  } catch {
    return `?/${String(total)}`;
  }
}

export function orDash(v: unknown): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}
