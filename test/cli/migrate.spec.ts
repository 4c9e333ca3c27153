/**
 * `ipam migrate vip-pools` with the worked examples of docs/semantics.md section 8.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingValue } from '../../apps/cli/src/commands/migrate.js';
import { EventStore } from '../../libs/jetstream/src/index.js';
import { lines, startCliEnv, type CliEnv } from './support.js';

const STREAM = 'IPAM_CLI_MIGRATE';
let env: CliEnv;
let dir: string;

const SETTING = {
  default: '172.16.0.0/24,172.16.1.0/24',
  demo: '172.16.2.50-172.16.2.100,172.16.2.150-172.16.3.200',
  global: '10.1.0.1-10.1.0.254',
};
const KUBE_VIP = {
  default: {
    services: [
      { vip: '172.16.0.7', serviceName: 'svc-a' },
      { vip: '0.0.0.0', serviceName: 'pending' },
    ],
  },
  // no pool for namespace "other": its address is in the global pool
  other: JSON.stringify({ services: [{ vip: '10.1.0.20', serviceName: 'svc-b' }] }),
};

function file(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

async function lastSeq(): Promise<number> {
  return new EventStore(await env.nats.connect(), STREAM).lastSeq();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipam-cli-migrate-'));
  env = await startCliEnv(STREAM);
}, 30_000);

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ipam migrate vip-pools', () => {
  it('--dry-run prints the plan and every entry that cannot be migrated, publishes nothing, exits 1', async () => {
    const setting = file('setting-bad.json', {
      ...SETTING,
      wide: '192.168.1.0-192.168.1.255',
      mixed: '10.5.0.0/24,10.6.0.1-10.6.0.9',
    });
    const kubeVip = file('kubevip-bad.json', {
      ...KUBE_VIP,
      demo: { services: [{ vip: '192.168.99.1', serviceName: 'lost' }] },
    });
    const r = await env.ipam([
      'migrate',
      'vip-pools',
      '--setting',
      setting,
      '--kubevip-services',
      kubeVip,
      '--dry-run',
    ]);
    expect(r.code).toBe(1);
    const out = lines(r.out);
    const row = (pool: string) =>
      out
        .find((l) => l.trim().startsWith(`${pool} `))
        ?.trim()
        .split(/\s{2,}/);
    expect(row('default')).toEqual(['default', '172.16.0.0/24,172.16.1.0/24', '506', '1']);
    expect(row('demo')).toEqual([
      'demo',
      '172.16.2.50-172.16.2.100 (172.16.2.0/25),172.16.2.150-172.16.3.200 (172.16.2.0/23)',
      '358',
      '0',
    ]);
    expect(row('global')).toEqual(['global', '10.1.0.1-10.1.0.254 (10.1.0.0/24)', '253', '1']);
    // deviation: the smallest subnet that makes the range valid
    expect(row('wide')).toEqual(['wide', '192.168.1.0-192.168.1.255 (192.168.0.0/22)', '256', '0']);
    expect(r.out).toMatch(
      /History entries:\n\s+POOL\s+IP\s+LOADBALANCER\n\s+default\s+172\.16\.0\.7\s+default\/svc-a\n\s+global\s+10\.1\.0\.20\s+other\/svc-b\n/,
    );
    expect(r.out).toContain('Not migrated:\n');
    expect(r.out).toContain('  setting mixed: mixes CIDRs and ranges');
    expect(r.out).toContain(
      '  kube-vip demo/lost 192.168.99.1: neither pool "demo" nor the global pool holds 192.168.99.1',
    );
    expect(r.out).not.toContain('pending');
    expect(r.out).toContain('Dry run: nothing was published.');
    expect(lines(r.err)).toEqual(['error: 2 entries could not be migrated (see above)']);
    expect(await lastSeq()).toBe(0);
  });

  it('creates the pools and imports the history; each load balancer gets its old address back', async () => {
    const r = await env.ipam([
      'migrate',
      'vip-pools',
      '--setting',
      file('setting.json', SETTING),
      '--kubevip-services',
      file('kubevip.json', KUBE_VIP),
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Not migrated: nothing');
    expect(lines(r.out).slice(-5)).toEqual([
      'ippool/default created',
      'ippool/demo created',
      'ippool/global created',
      'ippool/default history imported: 1 entry',
      'ippool/global history imported: 1 entry',
    ]);

    const pools = await env.ipam(['get', 'pools', '-o', 'json']);
    const items = (
      JSON.parse(pools.out) as {
        items: Array<{
          metadata: { name: string };
          spec: { ranges: Array<{ subnet: string }> };
          status: { total: number; allocatedHistory: object };
        }>;
      }
    ).items;
    const byName = new Map(items.map((p) => [p.metadata.name, p]));
    expect(byName.get('default')?.status.total).toBe(506);
    expect(byName.get('demo')?.status.total).toBe(358);
    expect(byName.get('demo')?.spec.ranges.map((x) => x.subnet)).toEqual(['172.16.2.0/25', '172.16.2.0/23']);
    expect(byName.get('global')?.status.total).toBe(253);
    expect(byName.get('default')?.status.allocatedHistory).toEqual({ '172.16.0.7': 'default/svc-a' });
    expect(byName.get('global')?.status.allocatedHistory).toEqual({ '10.1.0.20': 'other/svc-b' });

    const a = await env.ipam(['request', 'lb', 'default/svc-a', '-o', 'json']);
    expect(JSON.parse(a.out)).toMatchObject({ ipPool: 'default', ip: '172.16.0.7', fromHistory: true });
    const b = await env.ipam(['request', 'lb', 'other/svc-b', '-o', 'json']);
    expect(JSON.parse(b.out)).toMatchObject({ ipPool: 'global', ip: '10.1.0.20', fromHistory: true });
    const fresh = await env.ipam(['request', 'lb', 'demo/new', '-o', 'json']);
    expect(JSON.parse(fresh.out)).toMatchObject({ ipPool: 'demo', ip: '172.16.2.50', fromHistory: false });
  });

  it('reports a pool the service rejects, and the history it could not import', async () => {
    // "default" exists with other ranges now: PoolExists; its history is not imported
    const r = await env.ipam([
      'migrate',
      'vip-pools',
      '--setting',
      file('setting-conflict.json', { default: '172.16.0.0/24' }),
      '--kubevip-services',
      file('kubevip-conflict.json', { default: { services: [{ vip: '172.16.0.9', serviceName: 'svc-c' }] } }),
    ]);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      expect.stringMatching(/^ippool\/default rejected: PoolExists: /),
      'ippool/default history not imported: the pool was not created (1 entry)',
      'error: 2 entries could not be migrated (see above)',
    ]);
  });

  it('reads the setting as a Harvester Setting object or as its JSON text', () => {
    expect(
      settingValue({ kind: 'Setting', metadata: { name: 'vip-pools' }, value: '{"a":"10.0.0.0/24"}' }, 'f'),
    ).toEqual({
      a: '10.0.0.0/24',
    });
    expect(settingValue('{"a":"10.0.0.0/24"}', 'f')).toEqual({ a: '10.0.0.0/24' });
    expect(settingValue({ a: '10.0.0.0/24' }, 'f')).toEqual({ a: '10.0.0.0/24' });
  });
});
