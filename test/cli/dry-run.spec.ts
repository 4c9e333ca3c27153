/**
 * The CLI's dry runs and the additions of issue 14 over a real nats-server and service: `apply
 * --dry-run=server` says what each pool would get (and the load balancers a change would affect) and
 * stores nothing, then the apply does exactly that; `diff -f` shows a unified diff against the live
 * spec (exit 1) and nothing once applied (exit 0); `request lb --sharing-key --ip-family`.
 */
import { startCliEnv, lines, type CliEnv } from './support.js';

let env: CliEnv;

const poolYaml = (
  name: string,
  subnet: string,
  extra = '',
) => `apiVersion: loadbalancer.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: ${name}
spec:
  ranges:
    - subnet: ${subnet}${extra}
  selector:
    scope:
      - project: "*"
        namespace: ${name}
        guestCluster: "*"
`;

beforeAll(async () => {
  env = await startCliEnv('IPAM_CLI_DRY_RUN');
}, 30_000);

afterAll(() => env?.stop());

describe('ipam apply --dry-run=server', () => {
  it('prints what each pool would get, publishing nothing; the apply then does the same', async () => {
    const f = env.file('dry-a.yaml', poolYaml('dry-a', '10.50.0.0/29'));
    const before = await env.lastSeq();
    const dry = await env.ipam(['apply', '-f', f, '--dry-run=server']);
    expect(dry).toMatchObject({ code: 0, out: 'ippool/dry-a created (server dry run)\n' });
    expect(await env.lastSeq()).toBe(before);
    expect((await env.ipam(['apply', '-f', f])).out).toBe('ippool/dry-a created\n');
    expect((await env.ipam(['apply', '-f', f, '--dry-run=server'])).out).toBe(
      'ippool/dry-a unchanged (server dry run)\n',
    );
  });

  it('names the code of a rejection and the load balancers blocking it, exit 1', async () => {
    await env.ipam(['apply', '-f', env.file('dry-b.yaml', poolYaml('dry-b', '10.51.0.0/29'))]);
    const held = await env.ipam(['request', 'lb', 'dry-b/web', '-o', 'json']);
    const ip = (JSON.parse(held.out) as { ip: string }).ip;
    const exclude = `\n      exclude: ["${ip}"]`;
    const f = env.file('dry-b2.yaml', poolYaml('dry-b', '10.51.0.0/29', exclude));
    const before = await env.lastSeq();
    const dry = await env.ipam(['apply', '-f', f, '--dry-run=server']);
    expect(dry.code).toBe(1);
    expect(dry.err).toMatch(/^ippool\/dry-b rejected: ExcludesAllocated: .* \(server dry run\)\n$/);
    expect(dry.out).toBe(`  loadbalancer/dry-b/web ${ip} dry-b blocksUpdate\n`);
    expect(await env.lastSeq()).toBe(before);
    const real = await env.ipam(['apply', '-f', f]);
    expect(real.code).toBe(1);
    expect(real.err).toBe(dry.err.replace(' (server dry run)', ''));
  });

  it('takes server or none only', async () => {
    const r = await env.ipam([
      'apply',
      '-f',
      env.file('dry-c.yaml', poolYaml('dry-c', '10.52.0.0/29')),
      '--dry-run=client',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--dry-run must be server or none/);
  });
});

describe('ipam get pools: disabled pools and excluded addresses', () => {
  it('says after USED/TOTAL how many addresses are excluded and that a pool is disabled', async () => {
    const quiet = poolYaml(
      'quiet',
      '10.56.0.0/24',
      '\n      exclude: ["10.56.0.5", "10.56.0.10-10.56.0.12"]',
    ).replace('spec:\n', 'spec:\n  autoAssign: false\n');
    expect((await env.ipam(['apply', '-f', env.file('quiet.yaml', quiet)])).code).toBe(0);
    const r = await env.ipam(['get', 'pool', 'quiet']);
    expect(lines(r.out)[1].split(/\s{2,}/)).toEqual([
      'quiet',
      '<none>',
      '0',
      'project=*,namespace=quiet,cluster=*',
      '10.56.0.0/24',
      '0/249, 4 excluded, disabled',
    ]);
  });
});

describe('ipam diff -f', () => {
  it('shows a unified diff of the canonical specs and exits 1; nothing and 0 once applied', async () => {
    const created = await env.ipam([
      'diff',
      '-f',
      env.file('diff-a.yaml', poolYaml('diff-a', '10.53.0.0/29')),
    ]);
    expect(created.code).toBe(1);
    expect(lines(created.out).slice(0, 3)).toEqual([
      '--- /dev/null',
      '+++ file/ippool/diff-a',
      expect.stringMatching(/^@@ -0,0 \+1,\d+ @@$/),
    ]);
    await env.ipam(['apply', '-f', env.file('diff-a.yaml', poolYaml('diff-a', '10.53.0.0/29'))]);
    // once applied, the file and the live pool agree
    expect(await env.ipam(['diff', '-f', env.path('diff-a.yaml')])).toEqual({ code: 0, out: '', err: '' });
    const grown = await env.ipam([
      'diff',
      '-f',
      env.file('diff-a2.yaml', poolYaml('diff-a', '10.53.0.0/28')),
    ]);
    expect(grown.code).toBe(1);
    const out = lines(grown.out);
    expect(out.slice(0, 2)).toEqual(['--- live/ippool/diff-a', '+++ file/ippool/diff-a']);
    expect(out.filter((l) => /^[-+] /.test(l))).toEqual([
      '-    - subnet: 10.53.0.0/29',
      '+    - subnet: 10.53.0.0/28',
    ]);
  });
});

describe('ipam request lb: sharing keys and IP families', () => {
  it('--sharing-key gives a second load balancer the address of the first, named as a sharer', async () => {
    await env.ipam(['apply', '-f', env.file('share.yaml', poolYaml('share', '10.54.0.0/29'))]);
    const one = await env.ipam(['request', 'lb', 'share/one', '--sharing-key', 'k', '-o', 'json']);
    const two = await env.ipam(['request', 'lb', 'share/two', '--sharing-key', 'k']);
    expect(two.code).toBe(0);
    const [header, row, shared] = lines(two.out);
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'POOL', 'IP', 'MASK', 'GATEWAY', 'FROM-HISTORY']);
    const ip = (JSON.parse(one.out) as { ip: string }).ip;
    expect(row.split(/\s{2,}/)).toEqual(['share/two', 'share', ip, '255.255.255.248', '10.54.0.1', 'false']);
    expect(shared).toBe('shared with: share/one');
  });

  it('--ip-family IPv4 --ip-family IPv6 gives one address of each, a row each; a bad family is a usage error', async () => {
    const mixed = poolYaml('ds', '10.55.0.0/29', '\n    - subnet: fd00:55::/120');
    expect((await env.ipam(['apply', '-f', env.file('ds.yaml', mixed)])).out).toBe('ippool/ds created\n');
    const r = await env.ipam(['request', 'lb', 'ds/web', '--ip-family', 'IPv4', '--ip-family', 'IPv6']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = lines(r.out)
      .slice(1)
      .map((l) => l.split(/\s{2,}/).slice(0, 3));
    expect(rows).toEqual([
      ['ds/web', 'ds', '10.55.0.2'],
      ['ds/web', 'ds', 'fd00:55::2'],
    ]);
    // get lb shows both addresses too
    const got = await env.ipam(['get', 'lb', 'ds/web']);
    expect(
      lines(got.out)[1]
        .split(/\s{2,}/)
        .slice(0, 3),
    ).toEqual(['ds/web', 'ds', '10.55.0.2,fd00:55::2']);
    const bad = await env.ipam(['request', 'lb', 'ds/x', '--ip-family', 'ipv4']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--ip-family must be IPv4 or IPv6/);
  });
});
