/**
 * The CLI's kubectl habits, against a real nats-server and the service in-process: `get lbs` (a
 * namespace, -A, --pool, pages over `ipam.query.lbs`), `-o wide` and `-o name`, a NAME in -n's
 * namespace, `--version`, `completion bash|zsh` (sourced by a real bash; names completed from the
 * service), and the spinner while an outcome is awaited (on a terminal only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../apps/cli/src/main.js';
import { startSpinner } from '../../apps/cli/src/progress.js';
import { connectIpam, isQueryError, type IpamClient } from '../../libs/ipam-client/src/index.js';
import { QUERY_SCHEMAS } from '../../libs/ipam-contract/src/index.js';
import { REPO_ROOT } from '../support/ipam-service.js';
import { schemaErrors } from '../support/wire-schemas.js';
import { captureIo, lines, startCliEnv, type CliEnv } from './support.js';

const STREAM = 'IPAM_CLI_KUBECTL';
let env: CliEnv;
let client: IpamClient;
/** a directory with `ipam` -> bin/ipam.mjs, for shells */
let binDir: string;

const pool = (name: string, subnet: string, namespace: string, priority = 0) => ({
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name },
  spec: { ranges: [{ subnet }], selector: { priority, scope: [{ namespace }] } },
});

beforeAll(async () => {
  binDir = mkdtempSync(join(tmpdir(), 'ipam-bin-'));
  symlinkSync(join(REPO_ROOT, 'bin', 'ipam.mjs'), join(binDir, 'ipam'));
  env = await startCliEnv(STREAM);
  const applied = await env.ipam(['apply', '-f', '-'], {
    stdin: JSON.stringify([
      pool('pool-default', '10.20.0.0/24', 'default'),
      // selected for team-b (priority 1); pool-team-2 only when asked for
      pool('pool-team', '10.21.0.0/24', 'team-b', 1),
      pool('pool-team-2', '10.22.0.0/24', 'team-b'),
    ]),
  });
  expect(applied.code).toBe(0);
  for (const [lb, extra] of [
    ['default/web', []],
    ['default/api', []],
    ['team-b/db', []],
    ['team-b/cache', ['--pool', 'pool-team-2']],
    ['team-b/queue', []],
  ] as const) {
    const r = await env.ipam(['request', 'lb', lb, ...extra]);
    expect([lb, r.code, r.err]).toEqual([lb, 0, '']);
  }
  client = await connectIpam({ servers: env.nats.url, stream: STREAM, timeoutMs: 10_000 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await env?.stop();
  rmSync(binDir, { recursive: true, force: true });
});

describe('ipam get lbs', () => {
  it('lists the namespace "default" without -n or -A, as kubectl does, in name order', async () => {
    const r = await env.ipam(['get', 'lbs']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      'NAME          POOL           IP          MASK            GATEWAY',
      'default/api   pool-default   10.20.0.3   255.255.255.0   10.20.0.1',
      'default/web   pool-default   10.20.0.2   255.255.255.0   10.20.0.1',
    ]);
    // `get lb` without a name is the same list (kubectl's singular and plural are one)
    expect((await env.ipam(['get', 'lb'])).out).toBe(r.out);
  });

  it('-n NAMESPACE, -A (every namespace) and --pool filter', async () => {
    const names = async (...args: string[]) =>
      lines((await env.ipam(['get', 'lbs', '-o', 'name', ...args])).out);
    expect(await names('-n', 'team-b')).toEqual([
      'loadbalancer/team-b/cache',
      'loadbalancer/team-b/db',
      'loadbalancer/team-b/queue',
    ]);
    expect(await names('--namespace', 'team-b', '--pool', 'pool-team')).toEqual([
      'loadbalancer/team-b/db',
      'loadbalancer/team-b/queue',
    ]);
    expect(await names('-A')).toEqual([
      'loadbalancer/default/api',
      'loadbalancer/default/web',
      'loadbalancer/team-b/cache',
      'loadbalancer/team-b/db',
      'loadbalancer/team-b/queue',
    ]);
    expect(await names('--all-namespaces', '--pool', 'pool-team-2')).toEqual(['loadbalancer/team-b/cache']);
  });

  it('an empty list says so on stderr, prints nothing on stdout, and exits 0', async () => {
    const r = await env.ipam(['get', 'lbs', '-n', 'nobody-here']);
    expect([r.code, r.out, r.err]).toEqual([0, '', 'No load balancers in namespace nobody-here.\n']);
    const p = await env.ipam(['get', 'lbs', '-A', '--pool', 'no-pool', '-o', 'name']);
    expect([p.code, p.out, p.err]).toEqual([
      0,
      '',
      'No load balancers holding an address of pool no-pool.\n',
    ]);
  });

  it('reads every page: --chunk-size 2 gives the same list as one page', async () => {
    const whole = await env.ipam(['get', 'lbs', '-A', '-o', 'json']);
    const paged = await env.ipam(['get', 'lbs', '-A', '-o', 'json', '--chunk-size', '2']);
    expect(paged.code).toBe(0);
    expect(paged.out).toBe(whole.out);
    const items = (JSON.parse(whole.out) as { items: Array<{ loadBalancer: string }> }).items;
    expect(items.map((i) => i.loadBalancer)).toEqual([
      'default/api',
      'default/web',
      'team-b/cache',
      'team-b/db',
      'team-b/queue',
    ]);
    expect(items[0]).toEqual({
      loadBalancer: 'default/api',
      ipPool: 'pool-default',
      ip: '10.20.0.3',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '10.20.0.1',
    });
  });

  it('-o wide adds the prefix length, every address, the sharing key and the other holders', async () => {
    const r = await env.ipam(['get', 'lbs', '-n', 'team-b', '-o', 'wide', '--pool', 'pool-team-2']);
    expect(lines(r.out)).toEqual([
      'NAME           POOL          IP          MASK            GATEWAY     PREFIX   ADDRESSES   SHARING-KEY   SHARED-WITH',
      'team-b/cache   pool-team-2   10.22.0.2   255.255.255.0   10.22.0.1   24       10.22.0.2   <none>        <none>',
    ]);
  });
});

describe('ipam.query.lbs (the query behind get lbs)', () => {
  it('answers a page and a continue token while more remain; the token gives the next page', async () => {
    const first = await client.loadBalancers({ limit: 2 });
    if (isQueryError(first)) throw new Error(first.error.reason);
    expect(first.items.map((i) => i.loadBalancer)).toEqual(['default/api', 'default/web']);
    expect(first.continue).toEqual(expect.any(String));
    // the reply and the request are the contract's (docs/asyncapi.yaml: LoadBalancerList, LoadBalancersQuery)
    expect(schemaErrors(QUERY_SCHEMAS['ipam.query.lbs'].reply, first)).toEqual([]);
    expect(
      schemaErrors(QUERY_SCHEMAS['ipam.query.lbs'].request, { limit: 2, continue: first.continue }),
    ).toEqual([]);
    const second = await client.loadBalancers({ limit: 2, continue: first.continue });
    if (isQueryError(second)) throw new Error(second.error.reason);
    expect(second.items.map((i) => i.loadBalancer)).toEqual(['team-b/cache', 'team-b/db']);
    const last = await client.loadBalancers({ limit: 2, continue: second.continue });
    if (isQueryError(last)) throw new Error(last.error.reason);
    expect(last).toEqual({ items: [expect.objectContaining({ loadBalancer: 'team-b/queue' })] });
  });

  it.each([
    [{ limit: 0 }, /limit must be a whole number from 1 to 1000/],
    [{ limit: 1001 }, /limit must be a whole number from 1 to 1000/],
    [{ namespace: 5 }, /namespace must be a non-empty text/],
    [{ pool: '' }, /pool must be a non-empty text/],
    [{ continue: 'not-a-token' }, /continue is not a token this list gave/],
  ])('answers InvalidRequest to %j', async (request, why) => {
    const r = await client.query('lbs', request as never);
    expect(r).toEqual({ error: { code: 'InvalidRequest', reason: expect.stringMatching(why) } });
  });
});

describe('-o wide and -o name on pools and single objects; NAME in -n namespace', () => {
  it('get pools -o name / get pool NAME -o name', async () => {
    expect(lines((await env.ipam(['get', 'pools', '-o', 'name'])).out)).toEqual([
      'ippool/pool-default',
      'ippool/pool-team',
      'ippool/pool-team-2',
    ]);
    expect((await env.ipam(['get', 'pool', 'pool-team', '-o', 'name'])).out).toBe('ippool/pool-team\n');
  });

  it('get pools -o wide: available, last allocated, auto-assign, excluded, version, and subnets', async () => {
    const r = await env.ipam(['get', 'pool', 'pool-team', '-o', 'wide']);
    const [head, row] = lines(r.out);
    expect(head.split(/\s{2,}/)).toEqual([
      'NAME',
      'NETWORK',
      'PRIORITY',
      'SCOPE',
      'RANGES',
      'USED/TOTAL',
      'AVAILABLE',
      'LAST-ALLOCATED',
      'AUTO-ASSIGN',
      'EXCLUDED',
      'VERSION',
    ]);
    const version = (
      JSON.parse((await env.ipam(['get', 'pool', 'pool-team', '-o', 'json'])).out) as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;
    expect(row.split(/\s{2,}/)).toEqual([
      'pool-team',
      '<none>',
      '1',
      'namespace=team-b',
      '10.21.0.0/24',
      '2/253',
      '251',
      '10.21.0.3',
      'true',
      '<none>',
      version,
    ]);
  });

  it('get lb NAME is in namespace "default", or in -n NAMESPACE; -o name', async () => {
    const web = await env.ipam(['get', 'lb', 'web']);
    expect(lines(web.out)[1]).toMatch(/^default\/web\s+pool-default\s+10\.20\.0\.2\s/);
    expect((await env.ipam(['get', 'lb', 'db', '-n', 'team-b', '-o', 'name'])).out).toBe(
      'loadbalancer/team-b/db\n',
    );
    expect((await env.ipam(['get', 'lb', 'team-b/db', '-o', 'name'])).out).toBe('loadbalancer/team-b/db\n');
    const missing = await env.ipam(['get', 'lb', 'db']);
    expect([missing.code, missing.err]).toEqual([1, 'error: loadbalancer/default/db holds no address\n']);
  });

  it.each([
    [['get', 'lbs', '-n', 'a', '-A'], /give -n NAMESPACE or -A, not both/],
    [['get', 'pools', '-A'], /-A is for load balancers \(get lbs\), not pools/],
    [['get', 'pools', '--pool', 'x'], /--pool is for load balancers/],
    [['get', 'lb', 'a/b', '-n', 'c'], /"a\/b" is not in namespace "c"/],
    [['get', 'lb', 'a/b/c'], /"a\/b\/c" is not NAME or NAMESPACE\/NAME/],
    [['get', 'lbs', '--chunk-size', '0'], /--chunk-size "0" is not a whole number from 1 to 1000/],
    [['get', 'lbs', '-o', 'xml'], /-o xml is not supported; use json, yaml, wide or name/],
    [['request', 'lb', 'a/b', '-o', 'wide'], /-o wide is not supported; use json or yaml/],
  ])('usage error: %j', async (argv, message) => {
    const r = await env.ipam(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });
});

describe('ipam --version', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

  it('prints the package version and the commit of the checkout', async () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    const c = captureIo({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(await run(['--version'], c.io)).toBe(0);
    expect(c.out()).toBe(`ipam ${pkg.version} (commit ${head.slice(0, 12)})\n`);
    expect(c.err()).toBe('');
  });

  it('takes the commit from IPAM_GIT_COMMIT (a build without .git); without git, the version alone (spawned)', async () => {
    const c = captureIo({ env: { IPAM_GIT_COMMIT: 'ABCDEF0123456789abcdef0123456789abcdef01' } });
    expect(await run(['--version'], c.io)).toBe(0);
    expect(c.out()).toBe(`ipam ${pkg.version} (commit abcdef012345)\n`);
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ipam.mjs'), '--version'], {
      cwd: REPO_ROOT,
      env: { PATH: join(binDir, 'no-such-dir') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `ipam ${pkg.version}\n`, '']);
  });

  it('takes no command', async () => {
    const c = captureIo();
    expect(await run(['--version', 'get', 'pools'], c.io)).toBe(2);
    expect(c.err()).toMatch(/--version takes no command/);
  });
});

describe('ipam completion bash|zsh', () => {
  const shellEnv = () => ({ PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: binDir });

  /**
   * Runs `bash -c script` without blocking this process (the service under test answers the queries a
   * completion makes from here); stdin is /dev/null, so bash reads no startup file.
   */
  function bash(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', script], { env: shellEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** the script, written once by the built CLI */
  let script: string;
  beforeAll(async () => {
    script = join(binDir, 'ipam-completion.bash');
    const r = await bash(`ipam completion bash > '${script}'`);
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  /** What the completion offers for `line` (the cursor at its end). */
  async function complete(line: string): Promise<string[]> {
    const words = line.split(' ');
    const r = await bash(
      `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ipam; printf '%s\\n' "\${COMPREPLY[@]}"`,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return lines(r.stdout).filter((l) => l !== '');
  }

  it('bash can source it, and it registers _ipam for ipam', async () => {
    const r = await bash('source <(ipam completion bash); complete -p ipam');
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'complete -F _ipam ipam\n']);
  });

  it('completes commands, their words, their options (as their --help lists them) and -o formats', async () => {
    expect(await complete('ipam ge')).toEqual(['get']);
    expect(await complete('ipam co')).toEqual(['completion']);
    expect(await complete('ipam --ver')).toEqual(['--version']);
    expect(await complete('ipam get ')).toEqual(['pools', 'pool', 'lbs', 'lb']);
    expect(await complete('ipam get lbs --all')).toEqual(['--all-namespaces']);
    expect(await complete('ipam get lbs -o ')).toEqual(['json', 'yaml', 'wide', 'name']);
    expect(await complete('ipam request lb a/b -o ')).toEqual(['json', 'yaml']);
    expect(await complete('ipam request lb a/b --workload-type ')).toEqual(['vm', 'cluster']);
    expect(await complete('ipam completion ')).toEqual(['bash', 'zsh']);
    expect(await complete('ipam --timeout 3 rel')).toEqual(['release']);
  });

  it('completes pool and load balancer names from the service named on the line', async () => {
    const conn = `--server ${env.nats.url} --stream ${STREAM}`;
    expect(await complete(`ipam ${conn} get pool pool-t`)).toEqual(['pool-team', 'pool-team-2']);
    expect(await complete(`ipam ${conn} get lbs --pool `)).toEqual([
      'pool-default',
      'pool-team',
      'pool-team-2',
    ]);
    expect(await complete(`ipam ${conn} release lb team-b/`)).toEqual([
      'team-b/cache',
      'team-b/db',
      'team-b/queue',
    ]);
    // no service there: nothing, quickly, and no error on the terminal
    expect(await complete('ipam --server nats://127.0.0.1:1 get pool ')).toEqual([]);
  });

  it('zsh: the same function through bashcompinit; an unknown shell is a usage error', async () => {
    const bashText = captureIo();
    await run(['completion', 'bash'], bashText.io);
    const zsh = captureIo();
    expect(await run(['completion', 'zsh'], zsh.io)).toBe(0);
    expect(zsh.out()).toMatch(/^#compdef ipam\n/);
    expect(zsh.out()).toContain('autoload -U +X bashcompinit && bashcompinit\n');
    expect(zsh.out().endsWith(bashText.out())).toBe(true);
    const fish = captureIo();
    expect(await run(['completion', 'fish'], fish.io)).toBe(2);
    expect(fish.err()).toMatch(/no completion for "fish"; use bash or zsh/);
  });
});

describe('the spinner while an outcome is awaited', () => {
  it('turns on stderr when it is a terminal, and its line is cleared before the answer is printed', async () => {
    // the service stops; the request waits for an outcome until a service runs again
    await env.service!.close();
    env.service = undefined;
    const c = captureIo({ stderrIsTTY: true });
    const request = run(
      ['--server', env.nats.url, '--stream', STREAM, '--timeout', '20', 'request', 'lb', 'default/spin'],
      c.io,
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(c.err()).toContain('waiting for the outcome of ipam.lb.requested (stream sequence ');
    await env.startService();
    expect(await request).toBe(0);
    const CLEAR = '\r\x1b[2K';
    expect(c.err().startsWith(CLEAR)).toBe(true);
    expect(c.err().slice(CLEAR.length)).toMatch(/^[|/\\-] waiting for the outcome/);
    expect(c.err().endsWith(CLEAR)).toBe(true);
    expect(lines(c.out())[1]).toMatch(/^default\/spin\s+pool-default\s/);
  }, 40_000);

  it('never draws when stderr is not a terminal (pipes, logs, captured output)', async () => {
    const c = captureIo();
    const spinner = startSpinner(c.io.stderr, 'waiting', { delayMs: 0, intervalMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    spinner.stop();
    expect(c.err()).toBe('');
    const r = await env.ipam(['request', 'lb', 'default/quiet']);
    expect([r.code, r.err]).toEqual([0, '']);
  });
});
