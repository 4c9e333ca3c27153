/** Texts the pages share. */
import type { IPPoolView } from '../../../libs/ipam-contract/src/index.js';
import { countOf, formatIp, rangeBounds } from './ip';

export function scopeText(pool: IPPoolView): string {
  const scope = pool.spec.selector.scope;
  if (scope.length === 1 && scope.every((t) => t.project === '*' && t.namespace === '*' && t.guestCluster === '*'))
    return 'global';
  if (scope.length === 0) return '<none>';
  return scope
    .map((t) =>
      [
        ['project', t.project],
        ['namespace', t.namespace],
        ['cluster', t.guestCluster],
      ]
        .filter(([, v]) => v !== '')
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    )
    .join('; ');
}

export function isGlobal(pool: IPPoolView): boolean {
  return scopeText(pool) === 'global';
}

export function rangeText(r: { subnet: string; rangeStart?: string; rangeEnd?: string }): string {
  if (!r.rangeStart && !r.rangeEnd) return r.subnet;
  const b = rangeBounds(r);
  return b ? `${formatIp(b.cidr.family, b.start)}-${formatIp(b.cidr.family, b.end)}` : r.subnet;
}

export function usage(pool: IPPoolView): { allocated: bigint; total: bigint } {
  const total = countOf(pool.status.total);
  return { allocated: total - countOf(pool.status.available), total };
}

export function statusText(pool: IPPoolView): string {
  if (pool.spec.autoAssign === false) return 'Disabled';
  const { allocated, total } = usage(pool);
  if (total === 0n) return 'Empty';
  return allocated >= total ? 'Full' : 'Active';
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
