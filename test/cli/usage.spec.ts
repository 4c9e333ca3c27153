/**
 * The command line itself: help everywhere, usage errors (exit 2, one line on stderr), a NATS server
 * that is not there (exit 1), and the output helpers. One spawned run of bin/ipam.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, run } from '../../apps/cli/src/main.js';
import { formatRanges, formatScope, table, usedOfTotal } from '../../apps/cli/src/output.js';
import { createProgress } from '../../apps/cli/src/progress.js';
import { parseAnnotations } from '../../apps/cli/src/commands/request.js';
import { REPO_ROOT } from '../support/ipam-service.js';
import { captureIo, lines } from './support.js';

async function ipam(argv: string[], env: Record<string, string> = {}) {
  const c = captureIo({ env });
  const code = await run(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('bin/ipam.mjs', () => {
  it('prints the usage (spawned)', () => {
    const bin = join(REPO_ROOT, 'bin', 'ipam.mjs');
    expect(existsSync(join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'))).toBe(true);
    const r = spawnSync(process.execPath, [bin, '--help'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: ipam COMMAND \[options\]/);
    for (const command of Object.keys(COMMANDS)) expect(r.stdout).toContain(`  ${command} `);
    expect(r.stdout).toContain('--server URL');
  });
});

describe('help', () => {
  it.each(Object.keys(COMMANDS))('ipam %s --help prints its usage and exits 0', async (command) => {
    const r = await ipam([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^Usage:/);
    expect(r.out).toContain(`ipam ${command}`);
    expect(r.out).toContain('--timeout SECONDS');
    const h = await ipam([command, 'anything', '-h']);
    expect(h.out).toBe(r.out);
  });

  it('ipam help COMMAND and ipam -h', async () => {
    expect((await ipam(['help', 'apply'])).out).toMatch(/^Usage: ipam apply/);
    expect((await ipam(['-h'])).out).toMatch(/^Usage: ipam COMMAND/);
  });
});

describe('usage errors exit 2 with one line on stderr', () => {
  it.each([
    [[], /^error: no command given$/],
    [['frobnicate'], /^error: unknown command "frobnicate" \(see 'ipam --help'\)$/],
    [['--bogus', 'get', 'pools'], /^error: unknown option "--bogus" before the command/],
    [['get', 'pools', '--bogus'], /^error: unknown option '--bogus' \(see 'ipam get --help'\)$/],
    [['get'], /say what to get/],
    [['get', 'widgets'], /unknown resource "widgets"/],
    [['get', 'pools', '-o', 'xml'], /-o xml is not supported; use json, yaml, wide or name/],
    [['get', 'lb', 'a/b/c'], /"a\/b\/c" is not NAME or NAMESPACE\/NAME/],
    [['request', 'lb', 'no-slash'], /"no-slash" is not NAMESPACE\/NAME/],
    [['apply'], /give the objects with -f FILE/],
    [['apply', '-f'], /argument missing/],
    [['delete', 'pool'], /give the name of the pool/],
    [['request', 'lb', 'default/x', '--workload-type', 'pod'], /--workload-type must be vm or cluster/],
    [['request', 'lb', 'default/x', '--annotation', 'novalue'], /is not KEY=VALUE/],
    [['release', 'ip', '300.1.2.3'], /"300\.1\.2\.3" is not an IP address/],
    [['release', 'lb', 'a/b', '--pool', 'p'], /--pool is for release ip/],
    [['audit', 'address', '10.0.0.1', '--at', 'yesterday'], /is not an RFC 3339 time/],
    [['audit', 'address', '10.0.0.1', '--at', '2026-01-01T00:00:00Z', '--seq', '3'], /either --at or --seq/],
    [['audit', 'lb', 'a/b', '--seq', '0'], /is not a stream sequence/],
    [['audit', 'lb', 'a/b', '-o', 'yaml'], /use json/],
    [['replay'], /replay needs --verify/],
    [['migrate', 'vip-pools'], /--setting FILE/],
    [['migrate', 'other-thing', '--setting', 'x'], /cannot migrate "other-thing"/],
    [['get', 'pools', '--timeout', 'soon'], /--timeout "soon" is not a number of seconds/],
    [['get', 'pools', '--stream', 'no.dots'], /is not a stream name/],
  ])('ipam %j', async (argv, message) => {
    const r = await ipam(argv as string[]);
    expect(r.code).toBe(2);
    const errLines = lines(r.err);
    expect(errLines[errLines.length - 1]).toMatch(message as RegExp);
    if ((argv as string[]).length > 0) expect(errLines).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it('a bad IPAM_MAX_BODY_BYTES is a usage error of replay', async () => {
    const r = await ipam(['replay', '--verify'], { IPAM_MAX_BODY_BYTES: 'lots' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/IPAM_MAX_BODY_BYTES must be a whole number/);
  });
});

describe('failures exit 1 with one line on stderr', () => {
  it('no NATS server', async () => {
    const r = await ipam(['get', 'pools', '--server', 'nats://127.0.0.1:1', '--timeout', '2']);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      expect.stringMatching(/^error: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /),
    ]);
  });

  it('a migration setting file that does not exist', async () => {
    const r = await ipam(['migrate', 'vip-pools', '--setting', '/nonexistent/setting.json', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: /nonexistent/setting.json: no such file\n');
  });
});

describe('output helpers', () => {
  it('table pads every column but the last', () => {
    expect(
      table(
        ['A', 'BB', 'C'],
        [
          ['xxx', 'y', 'zzzz'],
          ['', 'long value', ''],
        ],
      ),
    ).toBe(['A     BB           C', 'xxx   y            zzzz', '      long value'].join('\n'));
  });

  it('scope, ranges and used/total', () => {
    expect(formatScope([{ project: '*', namespace: '*', guestCluster: '*' }])).toBe('*');
    expect(
      formatScope([
        { project: '', namespace: 'default', guestCluster: '' },
        { project: 'p', namespace: '*', guestCluster: 'c' },
      ]),
    ).toBe('namespace=default; project=p,namespace=*,cluster=c');
    expect(formatScope([])).toBe('<none>');
    const spec = {
      ranges: [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.100' }, { subnet: '10.0.1.0/24' }],
      selector: { priority: 0, scope: [] },
    };
    expect(formatRanges('p', spec)).toBe('10.0.0.100-10.0.0.254,10.0.1.0/24');
    expect(formatRanges('p', spec, true)).toBe('10.0.0.100-10.0.0.254 (10.0.0.0/24),10.0.1.0/24');
    expect(usedOfTotal({ total: 253, available: 250 })).toBe('3/253');
    expect(usedOfTotal({ total: '18446744073709551616', available: '18446744073709551615' })).toBe(
      '1/18446744073709551616',
    );
  });

  it('annotations get the Harvester prefix unless they have one', () => {
    expect(parseAnnotations(['network=default/vlan1', 'example.com/x=a=b'])).toEqual({
      'loadbalancer.harvesterhci.io/network': 'default/vlan1',
      'example.com/x': 'a=b',
    });
  });
});

describe('progress', () => {
  function writer(isTTY: boolean) {
    let text = '';
    return { w: { isTTY, write: (s: string) => (text += s) }, text: () => text };
  }

  it('prints a line at every 10 % step without a terminal, for long work only', () => {
    const long = writer(false);
    const p = createProgress(long.w, 'replay', 50_000);
    for (let i = 1; i <= 50_000; i++) p.update(i);
    p.finish();
    expect(lines(long.text())).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((n) => `replay: ${n}%`));
    const short = writer(false);
    const q = createProgress(short.w, 'replay', 100);
    for (let i = 1; i <= 100; i++) q.update(i);
    expect(short.text()).toBe('');
  });

  it('redraws a bar in place on a terminal and clears it at the end', () => {
    const t = writer(true);
    let now = 0;
    const p = createProgress(t.w, 'replay', 1000, { now: () => now });
    for (let i = 1; i <= 1000; i++) {
      now += 1;
      p.update(i, `seq ${i}`);
    }
    p.finish();
    const frames = t
      .text()
      .split('\r\x1b[2K')
      .filter((f) => f !== '');
    expect(frames.length).toBeLessThanOrEqual(101);
    expect(frames[frames.length - 1]).toBe(`replay [${'#'.repeat(30)}] 100% seq 1000`);
    expect(t.text().endsWith('\r\x1b[2K')).toBe(true);
  });
});
