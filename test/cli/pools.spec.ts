/**
 * `ipam apply / get / request / release / delete / audit / replay --verify` against a real nats-server
 * and the service running in-process.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startCliEnv, lines, type CliEnv } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DOC_EXAMPLES = join(HERE, 'fixtures', 'harvester-doc-examples.yaml');

let env: CliEnv;

beforeAll(async () => {
  env = await startCliEnv('IPAM_CLI_POOLS');
}, 30_000);

afterAll(() => env?.stop());

describe('ipam apply', () => {
  it('creates the four pools of the Harvester doc page, pasted as they are', async () => {
    const r = await env.ipam(['apply', '-f', DOC_EXAMPLES]);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual([
      'ippool/default-ip-pool created',
      'ippool/rke2-ip-pool created',
      'ippool/default-ip-pool-2 created',
      'ippool/global-ip-pool created',
    ]);
    expect(r.code).toBe(0);
  });

  it('leaves identical pools unchanged and publishes nothing (stdin, unindented)', async () => {
    const before = await env.service!.allocator.state.pools.size;
    const dedented = readFileSync(DOC_EXAMPLES, 'utf8')
      .split('\n')
      .map((l) => l.replace(/^ {2}/, ''))
      .join('\n');
    const r = await env.ipam(['apply', '-f', '-'], { stdin: dedented });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      'ippool/default-ip-pool unchanged',
      'ippool/rke2-ip-pool unchanged',
      'ippool/default-ip-pool-2 unchanged',
      'ippool/global-ip-pool unchanged',
    ]);
    expect(env.service!.allocator.state.pools.size).toBe(before);
  });

  it('updates a changed pool (JSON array) and leaves the others', async () => {
    const docs = [
      {
        apiVersion: 'networking.harvesterhci.io/v1beta1',
        kind: 'IPPool',
        metadata: { name: 'default-ip-pool-2' },
        spec: {
          ranges: [{ subnet: '192.168.200.0/24' }, { subnet: '192.168.201.0/24' }],
          selector: { priority: 1, scope: { namespace: 'default' } },
        },
      },
      {
        kind: 'IPPool',
        metadata: { name: 'global-ip-pool' },
        spec: {
          ranges: [{ subnet: '192.168.20.0/24' }],
          selector: { scope: [{ project: '*', namespace: '*', guestCluster: '*' }] },
        },
        status: { total: 253 },
      },
    ];
    const r = await env.ipam(['apply', '-f', env.file('update.json', JSON.stringify(docs))]);
    expect(lines(r.out)).toEqual(['ippool/default-ip-pool-2 updated', 'ippool/global-ip-pool unchanged']);
    expect(r.code).toBe(0);
  });

  it('reports a rejected pool with its code and exits 1, after applying the rest', async () => {
    const text = [
      'kind: IPPool',
      'metadata: {name: overlapping}',
      'spec:',
      '  ranges: [{subnet: 192.168.100.0/25}]',
      '  selector: {priority: 7, scope: {namespace: other}}',
      '---',
      'kind: IPPool',
      'metadata: {name: backwards}',
      'spec:',
      '  ranges: [{subnet: 10.7.0.0/24, rangeStart: 10.7.0.20, rangeEnd: 10.7.0.10}]',
      '---',
      'kind: IPPool',
      'metadata: {name: extra}',
      'spec:',
      '  ranges: [{subnet: 10.9.0.0/24}]',
      '  selector: {priority: 5, scope: {namespace: extra}}',
    ].join('\n');
    const r = await env.ipam(['apply', '-f', env.file('mixed.yaml', text)]);
    expect(r.code).toBe(1);
    expect(lines(r.out)).toEqual(['ippool/extra created']);
    const err = lines(r.err);
    expect(err).toHaveLength(2);
    expect(err[0]).toMatch(/^ippool\/overlapping rejected: RangeOverlap: .*192\.168\.100\.0\/25/);
    expect(err[1]).toMatch(/^ippool\/backwards rejected: InvalidRange: .*after rangeEnd/);
  });

  it('fails clearly on a file that is not YAML, publishing nothing', async () => {
    const r = await env.ipam(['apply', '-f', env.file('broken.yaml', 'kind: IPPool\nmetadata: {name: x\n')]);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^error: .*broken\.yaml is not valid YAML or JSON/);
    const missing = await env.ipam(['apply', '-f', env.path('nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.yaml: no such file/);
  });
});

describe('ipam get', () => {
  it('prints the pools as a table', async () => {
    const r = await env.ipam(['get', 'pools']);
    expect(r.code).toBe(0);
    const [header, ...rows] = lines(r.out);
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'NETWORK', 'PRIORITY', 'SCOPE', 'RANGES', 'USED/TOTAL']);
    const byName = new Map(rows.map((row) => [row.split(/\s+/)[0], row.split(/\s{2,}/)]));
    expect([...byName.keys()]).toEqual([
      'default-ip-pool',
      'default-ip-pool-2',
      'extra',
      'global-ip-pool',
      'rke2-ip-pool',
    ]);
    expect(byName.get('rke2-ip-pool')).toEqual([
      'rke2-ip-pool',
      'default/vlan1',
      '0',
      'project=product,namespace=default,cluster=rke2',
      '192.168.10.10-192.168.10.20',
      '0/11',
    ]);
    expect(byName.get('default-ip-pool-2')).toEqual([
      'default-ip-pool-2',
      '<none>',
      '1',
      'namespace=default',
      '192.168.200.0/24,192.168.201.0/24',
      '0/506',
    ]);
    expect(byName.get('global-ip-pool')?.slice(3)).toEqual(['*', '192.168.20.0/24', '0/253']);
  });

  it('prints the pools with their status as JSON (-o json) and one pool as YAML (-o yaml)', async () => {
    const r = await env.ipam(['get', 'pools', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as {
      items: Array<{ kind: string; metadata: { name: string }; status: { total: number } }>;
    };
    expect(list.items.map((p) => p.metadata.name)).toContain('rke2-ip-pool');
    expect(list.items.find((p) => p.metadata.name === 'rke2-ip-pool')?.status).toEqual({
      total: 11,
      available: 11,
      lastAllocated: '',
      allocated: {},
      allocatedHistory: {},
    });
    const y = await env.ipam(['get', 'pool', 'rke2-ip-pool', '-o', 'yaml']);
    expect(y.code).toBe(0);
    const pool = parseYaml(y.out) as {
      kind: string;
      spec: { selector: { network: string } };
      status: { total: number };
    };
    expect(pool.kind).toBe('IPPool');
    expect(pool.spec.selector.network).toBe('default/vlan1');
    expect(pool.status.total).toBe(11);
  });

  it('reads its own -o yaml output back: apply leaves every pool unchanged', async () => {
    const y = await env.ipam(['get', 'pools', '-o', 'yaml']);
    const r = await env.ipam(['apply', '-f', env.file('roundtrip.yaml', y.out)]);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      'ippool/default-ip-pool unchanged',
      'ippool/default-ip-pool-2 unchanged',
      'ippool/extra unchanged',
      'ippool/global-ip-pool unchanged',
      'ippool/rke2-ip-pool unchanged',
    ]);
  });

  it('says when a pool is not found (exit 1)', async () => {
    const r = await env.ipam(['get', 'pool', 'no-such-pool']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: ippool/no-such-pool not found\n');
  });
});

describe('ipam request / release', () => {
  it('allocates from the highest-priority matching pool and prints the allocation', async () => {
    const r = await env.ipam(['request', 'lb', 'default/lb-a']);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toHaveLength(2);
    expect(lines(r.out)[1].split(/\s+/)).toEqual([
      'default/lb-a',
      'default-ip-pool-2',
      '192.168.200.2',
      '255.255.255.0',
      '192.168.200.1',
      'false',
    ]);
  });

  it('passes annotations (prefix added), --pool, --ip and --workload-type', async () => {
    const guest = await env.ipam([
      'request',
      'lb',
      'default/guest',
      '--annotation',
      'network=default/vlan1',
      '--annotation',
      'project=product',
      '--annotation',
      'loadbalancer.harvesterhci.io/cluster=rke2',
      '--workload-type',
      'cluster',
      '-o',
      'json',
    ]);
    expect(guest.code).toBe(0);
    expect(JSON.parse(guest.out)).toMatchObject({
      loadBalancer: 'default/guest',
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.10',
      gateway: '192.168.10.1',
      fromHistory: false,
    });
    const exact = await env.ipam([
      'request',
      'lb',
      'default/lb-c',
      '--pool',
      'extra',
      '--ip',
      '10.9.0.50',
      '-o',
      'json',
    ]);
    expect(exact.code).toBe(0);
    expect(JSON.parse(exact.out)).toMatchObject({ ipPool: 'extra', ip: '10.9.0.50' });
  });

  it('prints a rejection on stderr and exits 1', async () => {
    const r = await env.ipam(['request', 'lb', 'default/lost', '--pool', 'no-such-pool']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(lines(r.err)).toEqual([
      expect.stringMatching(/^loadbalancer\/default\/lost rejected: UnknownPool: .*no-such-pool/),
    ]);
  });

  it('shows a load balancer (get lb) and releases it to history; asking again gets the address back', async () => {
    const g = await env.ipam(['get', 'lb', 'default/lb-a']);
    expect(g.code).toBe(0);
    expect(lines(g.out)[1].split(/\s+/)).toEqual([
      'default/lb-a',
      'default-ip-pool-2',
      '192.168.200.2',
      '255.255.255.0',
      '192.168.200.1',
    ]);
    const j = await env.ipam(['get', 'lb', 'default/lb-a', '-o', 'json']);
    expect(JSON.parse(j.out)).toMatchObject({
      loadBalancer: 'default/lb-a',
      ip: '192.168.200.2',
      prefixLength: 24,
    });

    const rel = await env.ipam(['release', 'lb', 'default/lb-a']);
    expect(rel.code).toBe(0);
    expect(rel.out).toBe(
      'loadbalancer/default/lb-a released 192.168.200.2 (pool default-ip-pool-2; kept in its history)\n',
    );
    const gone = await env.ipam(['get', 'lb', 'default/lb-a']);
    expect(gone.code).toBe(1);
    expect(gone.err).toBe('error: loadbalancer/default/lb-a holds no address\n');
    const again = await env.ipam(['release', 'lb', 'default/lb-a']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^loadbalancer\/default\/lb-a rejected: UnknownLoadBalancer: /);

    const back = await env.ipam(['request', 'lb', 'default/lb-a', '-o', 'json']);
    expect(JSON.parse(back.out)).toMatchObject({ ip: '192.168.200.2', fromHistory: true });
  });

  it('force-releases an address (release ip), and says when nobody holds it', async () => {
    const r = await env.ipam(['release', 'ip', '10.9.0.50']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('ip/10.9.0.50 released from default/lb-c (pool extra; kept in its history)\n');
    const again = await env.ipam(['release', 'ip', '10.9.0.50', '--pool', 'extra']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^ip\/10\.9\.0\.50 rejected: AddressNotAllocated: /);
  });
});

describe('ipam audit', () => {
  it('says who requested and who released, from the NATS user each input was published as', async () => {
    const as = (user: string) => ({ env: { NATS_USER: user, NATS_PASSWORD: 'unused-by-this-server' } });
    const got = await env.ipam(['request', 'lb', 'team-audit/who', '-o', 'json'], as('alice'));
    expect(got.code).toBe(0);
    const { ip, actor } = JSON.parse(got.out) as { ip: string; actor: string };
    expect(actor).toBe('alice');
    expect((await env.ipam(['release', 'lb', 'team-audit/who'], as('bob'))).code).toBe(0);
    const r = await env.ipam(['audit', 'address', ip]);
    expect(lines(r.out).find((l) => l.startsWith('team-audit/who'))).toMatch(
      /requested by alice, released by bob$/,
    );
  });

  it('lists every holder of an address, and the holder as of a sequence', async () => {
    const r = await env.ipam(['audit', 'address', '192.168.200.2']);
    expect(r.code).toBe(0);
    const [header, first, second] = lines(r.out);
    expect(header.split(/\s+/)).toEqual(['HOLDER', 'POOL', 'FROM', 'FROM-SEQ', 'TO', 'TO-SEQ', 'NOTE']);
    expect(first).toMatch(
      /^default\/lb-a\s+default-ip-pool-2\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+\s+\d{4}-[\d:T.-]+Z\s+\d+$/,
    );
    expect(second).toMatch(
      /^default\/lb-a\s+default-ip-pool-2\s+\S+Z\s+\d+\s+-\s+-\s+from history, holds it now$/,
    );

    const json = await env.ipam(['audit', 'address', '192.168.200.2', '-o', 'json']);
    const reply = JSON.parse(json.out) as {
      holders: Array<{ from: { seq: number }; to: { seq: number } | null }>;
    };
    expect(reply.holders).toHaveLength(2);
    const firstFrom = reply.holders[0].from.seq;
    const asOf = await env.ipam([
      'audit',
      'address',
      '192.168.200.2',
      '--seq',
      String(firstFrom),
      '-o',
      'json',
    ]);
    expect((JSON.parse(asOf.out) as { holders: unknown[] }).holders).toEqual([reply.holders[0]]);
    const before = await env.ipam(['audit', 'address', '192.168.200.2', '--seq', '1']);
    expect(before.code).toBe(0);
    expect(before.out).toBe('No holder of 192.168.200.2 is recorded at seq 1.\n');
    const at = await env.ipam(['audit', 'address', '192.168.200.2', '--at', new Date().toISOString()]);
    expect(lines(at.out)).toHaveLength(2);
  });

  it('lists what a load balancer held and the rejections it got', async () => {
    const r = await env.ipam(['audit', 'lb', 'default/lost']);
    expect(r.code).toBe(0);
    const [header, row] = lines(r.out);
    expect(header.split(/\s+/)).toEqual(['EVENT', 'IP', 'POOL', 'FROM', 'FROM-SEQ', 'TO', 'TO-SEQ', 'NOTE']);
    expect(row).toMatch(/^rejected\s+-\s+-\s+\S+Z\s+\d+\s+-\s+-\s+UnknownPool: /);
    const lbA = await env.ipam(['audit', 'lb', 'default/lb-a']);
    // held, the repeated release was rejected, held again (from history)
    expect(
      lines(lbA.out)
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['held', 'rejected', 'held']);
    const json = await env.ipam(['audit', 'lb', 'default/lb-c', '-o', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({
      loadBalancer: 'default/lb-c',
      entries: [{ kind: 'held', ip: '10.9.0.50', to: { forced: true } }],
    });
  });
});

describe('ipam delete', () => {
  it('deletes a pool, refuses one in use, says when one does not exist', async () => {
    const ok = await env.ipam(['delete', 'pool', 'default-ip-pool']);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('ippool/default-ip-pool deleted\n');
    const inUse = await env.ipam(['delete', 'pool', 'default-ip-pool-2']);
    expect(inUse.code).toBe(1);
    expect(inUse.err).toMatch(/^ippool\/default-ip-pool-2 rejected: PoolInUse: /);
    const missing = await env.ipam(['delete', 'pool', 'default-ip-pool']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error: ippool/default-ip-pool not found\n');
  });
});

describe('ipam replay --verify', () => {
  it('re-decides every input the same way', async () => {
    const r = await env.ipam(['replay', '--verify']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^verified: all \d+ inputs decided the same way \(0 unanswered\)\n$/);
    const n = Number(/all (\d+) inputs/.exec(r.out)?.[1]);
    // 4 + 1 + 1 (update) + 2 (overlapping, extra) + 4 requests + 1 rejected request + 2 lb releases
    // + 2 ip releases + 1 repeated request + 2 deletes
    expect(n).toBeGreaterThanOrEqual(18);
    expect(r.code).toBe(0);
  });
});
