/**
 * `ipam migrate vip-pools`: Harvester's deprecated vip-pools setting (and the kube-vip records of
 * the addresses it handed out) become IP pools and history entries (docs/semantics.md section 8).
 */
import { planVipPoolsMigration, type MigrationPlan } from '../../../../libs/ipam-domain/src/index.js';
import { readValue } from '../documents.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, println, printError, UsageError } from '../io.js';
import { withClient } from '../nats-client.js';
import { bool, GLOBAL_HELP, noMorePositionals, parseCommand, str } from '../options.js';
import { table } from '../output.js';
import { poolOutcomeResult, resultLine } from './apply.js';

export const MIGRATE_USAGE = `Usage: ipam migrate vip-pools --setting FILE [--kubevip-services FILE] [--dry-run]

Migrates Harvester's deprecated vip-pools setting. The setting file holds its JSON value, namespace ->
comma-separated CIDRs or start-end ranges (the key "global" is the global pool), e.g.
  {"default": "172.16.0.0/24,172.16.1.0/24", "global": "10.1.0.1-10.1.0.254"}
(a Harvester Setting object with that JSON in "value" is accepted too). The kube-vip file holds the
addresses kube-vip handed out, namespace -> {"services": [{"vip": ..., "serviceName": ...}]}; each becomes
a history entry, so the load balancer gets its old address back.

Prints the plan (pools with their totals, history entries) and every entry that cannot be migrated and
why. Without --dry-run it then publishes PoolCreated for each pool and the history of each pool
(ipam.pool.historyimported), waiting for every outcome. Exits 1 if anything could not be migrated.
A range written backwards (end before start) is swapped, as Harvester's converter does, with a
"Warning: ..." line on stderr.

Options:
  --setting FILE            the vip-pools setting (JSON or YAML; - for stdin)
  --kubevip-services FILE   the kube-vip records (JSON or YAML)
  --dry-run                 print the plan, publish nothing (no NATS connection needed)
${GLOBAL_HELP}`;

const OPTIONS = {
  setting: { type: 'string' },
  'kubevip-services': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

/** The setting's value: the JSON object itself, its JSON text, or a Setting object carrying it in `value`. */
export function settingValue(raw: unknown, path: string): unknown {
  let v = raw;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as { kind?: unknown; value?: unknown; default?: unknown };
    if (o.kind === 'Setting') v = typeof o.value === 'string' && o.value !== '' ? o.value : o.default;
  }
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      throw new CliError(`${path}: the setting value is not JSON: ${v.slice(0, 80)}`);
    }
  }
  return v;
}

/** kube-vip records: a record may be given as its JSON text (as a ConfigMap stores it). */
export function kubeVipValue(raw: unknown, path: string): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CliError(`${path} must be an object: namespace -> {"services": [{"vip", "serviceName"}]}`);
  }
  const out: Record<string, unknown> = {};
  for (const [ns, record] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof record === 'string') {
      try {
        out[ns] = JSON.parse(record);
      } catch {
        throw new CliError(`${path}: the record of namespace ${ns} is not JSON`);
      }
    } else {
      out[ns] = record;
    }
  }
  return out;
}

export function formatPlan(plan: MigrationPlan): string {
  const lines: string[] = [];
  const historyCount = new Map(plan.history.map((h) => [h.ipPool, h.entries.length]));
  if (plan.pools.length === 0) lines.push('Pools: none');
  else {
    lines.push('Pools:');
    const rows = plan.pools.map((p) => [
      p.metadata.name,
      p.spec.ranges
        .map((r) => (r.rangeStart !== undefined ? `${r.rangeStart}-${r.rangeEnd} (${r.subnet})` : r.subnet))
        .join(','),
      plan.totals[p.metadata.name] ?? '?',
      String(historyCount.get(p.metadata.name) ?? 0),
    ]);
    lines.push(indent(table(['POOL', 'RANGES', 'TOTAL', 'HISTORY'], rows)));
  }
  const entries = plan.history.flatMap((h) => h.entries.map((e) => [h.ipPool, e.ip, e.loadBalancer]));
  lines.push('');
  if (entries.length === 0) lines.push('History entries: none');
  else {
    lines.push('History entries:');
    lines.push(indent(table(['POOL', 'IP', 'LOADBALANCER'], entries)));
  }
  lines.push('');
  if (plan.problems.length === 0) lines.push('Not migrated: nothing');
  else {
    lines.push('Not migrated:');
    for (const p of plan.problems) lines.push(`  ${p.entry}: ${p.problem}`);
  }
  return lines.join('\n');
}

function countEntries(n: number): string {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export async function migrateCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, OPTIONS, io, MIGRATE_USAGE, 'migrate');
  if (!p) return EXIT_OK;
  const [what] = p.positionals;
  if (what === undefined) throw new UsageError('say what to migrate: vip-pools', 'migrate');
  if (what !== 'vip-pools') throw new UsageError(`cannot migrate "${what}"; use vip-pools`, 'migrate');
  noMorePositionals(p.positionals, 1, 'migrate');
  const settingPath = str(p.values, 'setting');
  if (settingPath === undefined) throw new UsageError('give the setting with --setting FILE', 'migrate');
  const kubeVipPath = str(p.values, 'kubevip-services');
  if (settingPath === '-' && kubeVipPath === '-')
    throw new UsageError('only one file can come from stdin', 'migrate');
  const setting = settingValue(await readValue(settingPath, io), settingPath);
  const kubeVip =
    kubeVipPath === undefined ? {} : kubeVipValue(await readValue(kubeVipPath, io), kubeVipPath);
  const plan = planVipPoolsMigration(setting, kubeVip);
  println(io.stdout, formatPlan(plan));
  println(io.stdout);
  for (const w of plan.warnings) println(io.stderr, `Warning: ${w.entry}: ${w.warning}`);
  let failures = plan.problems.length;
  if (bool(p.values, 'dry-run')) {
    println(io.stdout, 'Dry run: nothing was published.');
  } else {
    failures += await withClient(p.global, io, async (client) => {
      let failed = 0;
      const accepted = new Set<string>();
      for (const pool of plan.pools) {
        const { seq, outcome } = await client.publishAndWait('ipam.pool.created', pool);
        const r = poolOutcomeResult(pool.metadata.name, outcome, seq);
        if (r.result === 'rejected') {
          failed++;
          println(io.stderr, resultLine(r));
        } else {
          accepted.add(pool.metadata.name);
          println(io.stdout, resultLine(r));
        }
      }
      for (const h of plan.history) {
        if (!accepted.has(h.ipPool)) {
          failed++;
          println(
            io.stderr,
            `ippool/${h.ipPool} history not imported: the pool was not created (${countEntries(h.entries.length)})`,
          );
          continue;
        }
        const { outcome } = await client.publishAndWait('ipam.pool.historyimported', h);
        const b = outcome.body as { entries?: unknown[]; code?: unknown; reason?: unknown };
        if (outcome.subject === 'ipam.pool.historyrestored') {
          println(
            io.stdout,
            `ippool/${h.ipPool} history imported: ${countEntries(Array.isArray(b.entries) ? b.entries.length : 0)}`,
          );
        } else {
          failed++;
          println(io.stderr, `ippool/${h.ipPool} history rejected: ${String(b.code)}: ${String(b.reason)}`);
        }
      }
      return failed;
    });
  }
  if (failures > 0) {
    printError(io, `${countEntries(failures)} could not be migrated (see above)`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}
