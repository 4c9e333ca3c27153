/**
 * Warnings the CLI prints on stderr, kubectl-style (`Warning: ...`), against a real nats-server and the
 * service in-process: `ipam apply` names the unknown fields of a pool that were dropped
 * (docs/semantics.md), `ipam migrate vip-pools` a reversed range it swapped. Warnings never fail a
 * command, and outcomes with warnings verify like any other (`ipam replay --verify`).
 */
import { lines, startCliEnv, type CliEnv } from './support.js';

const STREAM = 'IPAM_CLI_WARNINGS';
let env: CliEnv;

/** A pool as Harvester's own test suites write it: `type` on its ranges; plus an unknown scope key. */
const HARVESTER_STYLE = `
apiVersion: loadbalancer.harvesterhci.io/v1beta1
kind: IPPool
metadata:
  name: typed
spec:
  ranges:
  - type: cidr
    subnet: 10.70.0.0/24
  - type: range
    subnet: 10.70.1.0/24
    rangeStart: 10.70.1.10
    rangeEnd: 10.70.1.20
  selector:
    scope:
    - namespace: typed
      team: blue
`;

const TYPED_WARNINGS = [
  'Warning: unknown field "spec.ranges[0].type" was dropped',
  'Warning: unknown field "spec.ranges[1].type" was dropped',
  'Warning: unknown field "spec.selector.scope[0].team" was dropped',
];

beforeAll(async () => {
  env = await startCliEnv(STREAM);
}, 30_000);

afterAll(() => env?.stop());

describe('ipam apply', () => {
  it('creates a pool with unknown fields and prints a warning for each dropped field on stderr', async () => {
    const r = await env.ipam(['apply', '-f', env.file('typed.yaml', HARVESTER_STYLE)]);
    expect(lines(r.out)).toEqual(['ippool/typed created']);
    expect(lines(r.err)).toEqual(TYPED_WARNINGS);
    expect(r.code).toBe(0);
    const pool = await env.ipam(['get', 'pool', 'typed', '-o', 'json']);
    expect(JSON.parse(pool.out)).toMatchObject({
      spec: {
        ranges: [
          { subnet: '10.70.0.0/24' },
          { subnet: '10.70.1.0/24', rangeStart: '10.70.1.10', rangeEnd: '10.70.1.20' },
        ],
        selector: { scope: [{ project: '', namespace: 'typed', guestCluster: '' }] },
      },
    });
  });

  it('applied again it is unchanged, publishes nothing, and still warns', async () => {
    const before = await env.lastSeq();
    const r = await env.ipam(['apply', '-f', '-'], { stdin: HARVESTER_STYLE });
    expect(lines(r.out)).toEqual(['ippool/typed unchanged']);
    expect(lines(r.err)).toEqual(TYPED_WARNINGS);
    expect(r.code).toBe(0);
    expect(await env.lastSeq()).toBe(before);
  });

  it('an update warns about its own unknown fields', async () => {
    const updated = HARVESTER_STYLE.replace(
      'spec:\n',
      'spec:\n  description: now described\n  colour: red\n',
    );
    const r = await env.ipam(['apply', '-f', env.file('typed-updated.yaml', updated)]);
    expect(lines(r.out)).toEqual(['ippool/typed updated']);
    expect(lines(r.err)).toEqual(['Warning: unknown field "spec.colour" was dropped', ...TYPED_WARNINGS]);
    expect(r.code).toBe(0);
  });

  it('the output of `get -o yaml` (metadata, status) applies without a warning', async () => {
    const got = await env.ipam(['get', 'pool', 'typed', '-o', 'yaml']);
    expect(got.out).toContain('status:');
    const r = await env.ipam(['apply', '-f', '-'], { stdin: got.out });
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual(['ippool/typed unchanged']);
  });
});

describe('ipam migrate vip-pools', () => {
  const REVERSED = { bar: '172.16.4.10-172.16.3.1,192.168.40.10-192.168.40.1' };
  const SWAP_WARNINGS = [
    "Warning: setting bar: 172.16.4.10-172.16.3.1: the range is reversed; migrated as 172.16.3.1-172.16.4.10, as Harvester's converter does",
    "Warning: setting bar: 192.168.40.10-192.168.40.1: the range is reversed; migrated as 192.168.40.1-192.168.40.10, as Harvester's converter does",
  ];

  it('--dry-run: a reversed range is swapped in the plan (pool bar, total 275) with a warning; exit 0', async () => {
    const before = await env.lastSeq();
    const r = await env.ipam([
      'migrate',
      'vip-pools',
      '--setting',
      env.file('reversed.json', JSON.stringify(REVERSED)),
      '--dry-run',
    ]);
    const row = lines(r.out)
      .find((l) => l.trim().startsWith('bar '))
      ?.trim()
      .split(/\s{2,}/);
    expect(row).toEqual([
      'bar',
      '172.16.3.1-172.16.4.10 (172.16.0.0/21),192.168.40.1-192.168.40.10 (192.168.40.0/28)',
      '275',
      '0',
    ]);
    expect(r.out).toContain('Not migrated: nothing');
    expect(lines(r.err)).toEqual(SWAP_WARNINGS);
    expect(r.code).toBe(0);
    expect(await env.lastSeq()).toBe(before);
  });

  it('creates pool bar with total 275, printing the same warnings', async () => {
    const r = await env.ipam([
      'migrate',
      'vip-pools',
      '--setting',
      env.file('reversed.json', JSON.stringify(REVERSED)),
    ]);
    expect(lines(r.err)).toEqual(SWAP_WARNINGS);
    expect(lines(r.out).at(-1)).toBe('ippool/bar created');
    expect(r.code).toBe(0);
    const pool = await env.ipam(['get', 'pool', 'bar', '-o', 'json']);
    expect(JSON.parse(pool.out)).toMatchObject({ status: { total: 275, available: 275 } });
  });
});

describe('ipam replay --verify', () => {
  it('re-decides outcomes with warnings to the same text', async () => {
    const r = await env.ipam(['replay', '--verify']);
    expect(r.out).toMatch(/^verified: all \d+ inputs decided the same way \(0 unanswered\)\n$/);
    expect(r.code).toBe(0);
  });
});
