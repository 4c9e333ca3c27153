/**
 * Migration from Harvester's deprecated `vip-pools` setting (semantics section 8): the setting and the
 * kube-vip records become IPPool objects and history entries. Pure: the caller publishes the result.
 */
import {
  AddressSyntaxError,
  commonPrefix,
  familyOf,
  formatCidr,
  parseAddress,
  parseCidr,
} from './address.js';
import { IpamError } from './errors.js';
import { parsePool, PoolDefinition } from './pool-spec.js';

export interface VipPoolsSetting {
  [namespace: string]: string;
}

export interface KubeVipRecords {
  [namespace: string]: { services?: Array<{ vip?: unknown; serviceName?: unknown }> };
}

export interface MigratedPool {
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1';
  kind: 'IPPool';
  metadata: { name: string };
  spec: {
    ranges: Array<{ subnet: string; rangeStart?: string; rangeEnd?: string }>;
    selector: { priority: 0; scope: Array<{ project: string; namespace: string; guestCluster: string }> };
  };
}

export interface MigrationProblem {
  /** what could not be migrated: `setting <key>`, `setting <key>: <item>` or `kube-vip <ns>/<service> <vip>` */
  entry: string;
  problem: string;
}

/** Something migrated otherwise than written (a reversed range, swapped); nothing was left out. */
export interface MigrationWarning {
  /** `setting <key>: <item>` */
  entry: string;
  warning: string;
}

export interface MigrationPlan {
  pools: MigratedPool[];
  /** history entries to import, by pool */
  history: Array<{ ipPool: string; entries: Array<{ ip: string; loadBalancer: string }> }>;
  problems: MigrationProblem[];
  warnings: MigrationWarning[];
  /** allocatable addresses per pool, for the report */
  totals: Record<string, string>;
}

/**
 * A reversed range (`172.16.4.10-172.16.3.1`) means the addresses between its ends: Harvester's converter
 * swaps the ends, and so do we, so a setting that worked there migrates whole (with a warning).
 */
function inOrder(first: string, second: string): { startText: string; endText: string; swapped: boolean } {
  const swapped = parseAddress(first) > parseAddress(second);
  return swapped
    ? { startText: second, endText: first, swapped }
    : { startText: first, endText: second, swapped };
}

/** The subnet of a range `a-b` with a <= b: the smallest common prefix that makes both ends valid. */
function rangeSubnet(
  startText: string,
  endText: string,
): { subnet: string; rangeStart: string; rangeEnd: string } {
  const a = parseAddress(startText);
  const b = parseAddress(endText);
  let cidr = commonPrefix(a, b);
  // Deviation from Harvester: widen the subnet until neither end is its network (or IPv4 broadcast) address.
  const invalid = () =>
    cidr.prefixLength < (cidr.family === 4 ? 31 : 127) &&
    (a === cidr.network || (cidr.family === 4 && b === cidr.last));
  while (invalid() && cidr.prefixLength > 0) {
    cidr = parseCidr(`${formatCidr(cidr).split('/')[0]}/${cidr.prefixLength - 1}`);
  }
  return { subnet: formatCidr(cidr), rangeStart: startText, rangeEnd: endText };
}

export function planVipPoolsMigration(setting: unknown, kubeVip: unknown = {}): MigrationPlan {
  const plan: MigrationPlan = { pools: [], history: [], problems: [], warnings: [], totals: {} };
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) {
    plan.problems.push({
      entry: 'setting',
      problem: 'the vip-pools setting must be a JSON object: namespace -> CIDRs or ranges',
    });
    return plan;
  }
  const defs = new Map<string, PoolDefinition>();
  for (const [key, value] of Object.entries(setting as Record<string, unknown>)) {
    if (typeof value !== 'string' || value.trim() === '') {
      plan.problems.push({
        entry: `setting ${key}`,
        problem: 'the value must be a comma-separated list of CIDRs or start-end ranges',
      });
      continue;
    }
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const hasCidr = items.some((i) => i.includes('/'));
    const hasRange = items.some((i) => i.includes('-'));
    if (hasCidr && hasRange) {
      plan.problems.push({
        entry: `setting ${key}`,
        problem: 'mixes CIDRs and ranges in one value, which the setting does not allow; split them',
      });
      continue;
    }
    const ranges: MigratedPool['spec']['ranges'] = [];
    const warnings: MigrationWarning[] = [];
    for (const item of items) {
      try {
        if (item.includes('/')) {
          parseCidr(item);
          ranges.push({ subnet: item });
        } else {
          const parts = item.split('-');
          if (parts.length !== 2) throw new IpamError('InvalidRange', 'write a range as start-end');
          const first = parts[0].trim();
          const second = parts[1].trim();
          if (familyOf(parseAddress(first)) !== familyOf(parseAddress(second)))
            throw new IpamError('InvalidRange', `${first} and ${second} are of different families`);
          const { startText, endText, swapped } = inOrder(first, second);
          ranges.push(rangeSubnet(startText, endText));
          if (swapped) {
            warnings.push({
              entry: `setting ${key}: ${item}`,
              warning: `the range is reversed; migrated as ${startText}-${endText}, as Harvester's converter does`,
            });
          }
        }
      } catch (e) {
        if (e instanceof IpamError || e instanceof AddressSyntaxError) {
          plan.problems.push({
            entry: `setting ${key}: ${item}`,
            problem: e instanceof IpamError ? e.reason : e.message,
          });
          continue;
        }
        throw e;
      }
    }
    if (ranges.length === 0) continue;
    const pool: MigratedPool = {
      apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name: key },
      spec: {
        ranges,
        selector: {
          priority: 0,
          scope: [{ project: '*', namespace: key === 'global' ? '*' : key, guestCluster: '*' }],
        },
      },
    };
    try {
      const def = parsePool(pool);
      defs.set(key, def);
      plan.pools.push(pool);
      plan.warnings.push(...warnings);
      plan.totals[key] = def.total.toString();
    } catch (e) {
      if (e instanceof IpamError) {
        plan.problems.push({ entry: `setting ${key}`, problem: `${e.code}: ${e.reason}` });
        continue;
      }
      throw e;
    }
  }

  const holds = (def: PoolDefinition | undefined, ip: bigint) =>
    def !== undefined && def.ranges.some((r) => ip >= r.start && ip <= r.end && ip !== r.gateway);
  const history = new Map<string, Array<{ ip: string; loadBalancer: string }>>();
  if (typeof kubeVip === 'object' && kubeVip !== null && !Array.isArray(kubeVip)) {
    for (const [ns, record] of Object.entries(kubeVip as KubeVipRecords)) {
      const services = Array.isArray(record?.services) ? record.services : [];
      for (const svc of services) {
        const vip = typeof svc?.vip === 'string' ? svc.vip : '';
        const name = typeof svc?.serviceName === 'string' ? svc.serviceName : '';
        const entry = `kube-vip ${ns}/${name} ${vip}`;
        if (vip === '0.0.0.0') continue;
        if (vip === '' || name === '') {
          plan.problems.push({ entry, problem: 'a kube-vip record needs both vip and serviceName' });
          continue;
        }
        let ip: bigint;
        try {
          ip = parseAddress(vip);
        } catch (e) {
          plan.problems.push({ entry, problem: (e as Error).message });
          continue;
        }
        const poolName = holds(defs.get(ns), ip) ? ns : holds(defs.get('global'), ip) ? 'global' : null;
        if (poolName === null) {
          plan.problems.push({ entry, problem: `neither pool "${ns}" nor the global pool holds ${vip}` });
          continue;
        }
        const list = history.get(poolName) ?? [];
        list.push({ ip: vip, loadBalancer: `${ns}/${name}` });
        history.set(poolName, list);
      }
    }
  }
  plan.history = [...history].map(([ipPool, entries]) => ({ ipPool, entries }));
  return plan;
}
