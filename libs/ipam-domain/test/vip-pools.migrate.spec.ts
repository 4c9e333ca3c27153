/**
 * semantics.md section 8: migration from Harvester's deprecated `vip-pools` setting. The plan
 * (planVipPoolsMigration) is checked on Harvester's worked examples and the deviation, then applied to
 * a domain state the way `ipam migrate vip-pools` publishes it (PoolCreated per pool, then one
 * HistoryImported per pool), so a load balancer named in kube-vip gets its old address back.
 */
import { MigrationPlan, parsePool, planVipPoolsMigration } from '../src/index.js';
import { World } from './support.js';

/** Applies a plan as `ipam migrate vip-pools` publishes it; every pool and history group must be accepted. */
function applyPlan(plan: MigrationPlan, w = new World()): World {
  for (const p of plan.pools) w.mustCreate(p);
  for (const h of plan.history) {
    const e = w.send(w.cmd.importHistory(h.ipPool, h.entries));
    expect(e).toMatchObject({ type: 'HistoryImported', data: { ipPool: h.ipPool } });
  }
  return w;
}

function scopeOf(namespace: string) {
  return [{ project: '*', namespace, guestCluster: '*' }];
}

describe('section 8: the worked examples', () => {
  it('{"default":"172.16.0.0/24,172.16.1.0/24"} gives pool default with total 506', () => {
    const plan = planVipPoolsMigration({ default: '172.16.0.0/24,172.16.1.0/24' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools).toEqual([
      {
        apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
        kind: 'IPPool',
        metadata: { name: 'default' },
        spec: {
          ranges: [{ subnet: '172.16.0.0/24' }, { subnet: '172.16.1.0/24' }],
          selector: { priority: 0, scope: scopeOf('default') },
        },
      },
    ]);
    expect(plan.totals).toEqual({ default: '506' });
    expect(plan.history).toEqual([]);
    const w = applyPlan(plan);
    expect(w.status('default')).toMatchObject({ total: 506, available: 506 });
  });

  it('demo ranges give subnets 172.16.2.0/25 and 172.16.2.0/23 with total 358', () => {
    const plan = planVipPoolsMigration({ demo: '172.16.2.50-172.16.2.100,172.16.2.150-172.16.3.200' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools).toHaveLength(1);
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '172.16.2.0/25', rangeStart: '172.16.2.50', rangeEnd: '172.16.2.100' },
      { subnet: '172.16.2.0/23', rangeStart: '172.16.2.150', rangeEnd: '172.16.3.200' },
    ]);
    expect(plan.pools[0].spec.selector).toEqual({ priority: 0, scope: scopeOf('demo') });
    expect(plan.totals).toEqual({ demo: '358' });
    const w = applyPlan(plan);
    expect(w.status('demo')).toMatchObject({ total: 358 });
    // the gateway (default .1 of each subnet) is outside both ranges: the first address is .50
    expect(w.allocate('demo/a')).toMatchObject({
      ip: '172.16.2.50',
      prefixLength: 25,
      gateway: '172.16.2.1',
    });
  });

  it('{"global":"10.1.0.1-10.1.0.254"} gives the global pool with total 253, .1 its gateway', () => {
    const plan = planVipPoolsMigration({ global: '10.1.0.1-10.1.0.254' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools[0]).toMatchObject({
      metadata: { name: 'global' },
      spec: {
        ranges: [{ subnet: '10.1.0.0/24', rangeStart: '10.1.0.1', rangeEnd: '10.1.0.254' }],
        selector: { priority: 0, scope: [{ project: '*', namespace: '*', guestCluster: '*' }] },
      },
    });
    expect(plan.totals).toEqual({ global: '253' });
    expect(parsePool(plan.pools[0]).global).toBe(true);
    const w = applyPlan(plan);
    // a load balancer of any namespace is served by the global pool; .1 is skipped as the gateway
    expect(w.allocate('anywhere/a')).toMatchObject({ ipPool: 'global', ip: '10.1.0.2', gateway: '10.1.0.1' });
    expect(w.requestRejected('x/b', { ip: '10.1.0.1' }).code).toBe('AddressUnavailable');
  });

  it('several keys become several pools, each scoped to its namespace, and all apply together', () => {
    const plan = planVipPoolsMigration({
      default: '172.16.0.0/24,172.16.1.0/24',
      demo: '172.16.2.50-172.16.2.100,172.16.2.150-172.16.3.200',
      global: '10.1.0.1-10.1.0.254',
    });
    expect(plan.problems).toEqual([]);
    expect(plan.pools.map((p) => p.metadata.name)).toEqual(['default', 'demo', 'global']);
    expect(plan.totals).toEqual({ default: '506', demo: '358', global: '253' });
    const w = applyPlan(plan);
    expect(w.allocate('default/a').ipPool).toBe('default');
    expect(w.allocate('demo/a').ipPool).toBe('demo');
    expect(w.allocate('other/a').ipPool).toBe('global');
  });
});

describe('section 8: a reversed range is swapped, as Harvester does, with a warning', () => {
  it('{"bar":"172.16.4.10-172.16.3.1,192.168.40.10-192.168.40.1"} gives pool bar with total 275', () => {
    const plan = planVipPoolsMigration({ bar: '172.16.4.10-172.16.3.1,192.168.40.10-192.168.40.1' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '172.16.0.0/21', rangeStart: '172.16.3.1', rangeEnd: '172.16.4.10' },
      { subnet: '192.168.40.0/28', rangeStart: '192.168.40.1', rangeEnd: '192.168.40.10' },
    ]);
    // 172.16.3.1-172.16.4.10 is 266 addresses (gateway .0.1 outside); .40.1-.40.10 is 10 less its gateway .1
    expect(plan.totals).toEqual({ bar: '275' });
    expect(plan.warnings).toEqual([
      {
        entry: 'setting bar: 172.16.4.10-172.16.3.1',
        warning: "the range is reversed; migrated as 172.16.3.1-172.16.4.10, as Harvester's converter does",
      },
      {
        entry: 'setting bar: 192.168.40.10-192.168.40.1',
        warning:
          "the range is reversed; migrated as 192.168.40.1-192.168.40.10, as Harvester's converter does",
      },
    ]);
    const w = applyPlan(plan);
    expect(w.status('bar')).toMatchObject({ total: 275, available: 275 });
    expect(w.allocate('bar/a')).toMatchObject({ ip: '172.16.3.1', gateway: '172.16.0.1' });
  });

  it('an IPv6 range is swapped the same way; ranges in order give no warning', () => {
    const plan = planVipPoolsMigration({ six: 'fd00::20-fd00::10', four: '10.0.0.10-10.0.0.20' });
    expect(plan.pools.map((p) => p.spec.ranges[0])).toEqual([
      { subnet: 'fd00::/122', rangeStart: 'fd00::10', rangeEnd: 'fd00::20' },
      { subnet: '10.0.0.0/27', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.20' },
    ]);
    expect(plan.warnings.map((x) => x.entry)).toEqual(['setting six: fd00::20-fd00::10']);
  });

  it('a swap in a pool that is not migrated is not warned about: its problem says why', () => {
    const plan = planVipPoolsMigration({ Bad_Name: '10.0.0.20-10.0.0.10' });
    expect(plan.pools).toEqual([]);
    expect(plan.problems.map((p) => p.entry)).toEqual(['setting Bad_Name']);
    expect(plan.warnings).toEqual([]);
  });
});

describe('section 8: the deviation (a valid wider subnet instead of failing)', () => {
  it('192.168.1.0-192.168.1.255: the common prefix /24 would make both ends invalid; the smallest valid subnet is /22', () => {
    const plan = planVipPoolsMigration({ wide: '192.168.1.0-192.168.1.255' });
    expect(plan.problems).toEqual([]);
    // /24: .0 is the network address; /23 (192.168.0.0/23): .255 is its broadcast; /22 is valid
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '192.168.0.0/22', rangeStart: '192.168.1.0', rangeEnd: '192.168.1.255' },
    ]);
    // all 256 addresses, the default gateway 192.168.0.1 being outside the range
    expect(plan.totals).toEqual({ wide: '256' });
    const w = applyPlan(plan);
    expect(w.ip('wide/a')).toBe('192.168.1.0');
    expect(w.status('wide').total).toBe(256);
  });

  it('a range whose start is only the network address widens until it is not', () => {
    const plan = planVipPoolsMigration({ ns: '10.0.4.0-10.0.4.100' });
    expect(plan.problems).toEqual([]);
    // 10.0.4.0 is the network of /25 ... /22; 10.0.0.0/21 is the first where it is not
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '10.0.0.0/21', rangeStart: '10.0.4.0', rangeEnd: '10.0.4.100' },
    ]);
    expect(plan.totals).toEqual({ ns: '101' });
  });

  it('a range that is already valid keeps the common prefix', () => {
    const plan = planVipPoolsMigration({ ns: '10.0.4.1-10.0.4.254' });
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '10.0.4.0/24', rangeStart: '10.0.4.1', rangeEnd: '10.0.4.254' },
    ]);
    expect(plan.totals).toEqual({ ns: '253' });
  });

  it('a one-address range becomes a /32', () => {
    const plan = planVipPoolsMigration({ one: '10.9.9.9-10.9.9.9' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: '10.9.9.9/32', rangeStart: '10.9.9.9', rangeEnd: '10.9.9.9' },
    ]);
    expect(plan.totals).toEqual({ one: '1' });
  });

  it('IPv6 ranges work the same way (only the network address is invalid)', () => {
    const plan = planVipPoolsMigration({ v6: 'fd00::10-fd00::ff' });
    expect(plan.problems).toEqual([]);
    expect(plan.pools[0].spec.ranges).toEqual([
      { subnet: 'fd00::/120', rangeStart: 'fd00::10', rangeEnd: 'fd00::ff' },
    ]);
    expect(plan.totals).toEqual({ v6: '240' });
  });
});

describe('section 8: entries that cannot be migrated are reported, the rest migrates', () => {
  it('a value mixing CIDRs and ranges is reported and its pool left out', () => {
    const plan = planVipPoolsMigration({
      mixed: '172.16.0.0/24,172.16.1.10-172.16.1.20',
      ok: '172.16.5.0/24',
    });
    expect(plan.pools.map((p) => p.metadata.name)).toEqual(['ok']);
    expect(plan.problems).toEqual([
      { entry: 'setting mixed', problem: expect.stringMatching(/mixes CIDRs and ranges/) },
    ]);
    expect(plan.totals).toEqual({ ok: '253' });
  });

  it('garbage entries are reported one by one; the good entries of the same key still migrate', () => {
    const plan = planVipPoolsMigration({
      ns: '10.0.0.0/24, garbage/33 ,10.0.1.0/24',
      rng: '10.2.0.10-10.2.0.20,10.2.0.30,10.2.0.40-10.2.0.50-10.2.0.60',
      fam: '10.3.0.1-fd00::1',
    });
    expect(plan.pools.map((p) => [p.metadata.name, p.spec.ranges])).toEqual([
      ['ns', [{ subnet: '10.0.0.0/24' }, { subnet: '10.0.1.0/24' }]],
      ['rng', [{ subnet: '10.2.0.0/27', rangeStart: '10.2.0.10', rangeEnd: '10.2.0.20' }]],
    ]);
    const entries = plan.problems.map((p) => p.entry);
    expect(entries).toEqual([
      'setting ns: garbage/33',
      'setting rng: 10.2.0.30',
      'setting rng: 10.2.0.40-10.2.0.50-10.2.0.60',
      'setting fam: 10.3.0.1-fd00::1',
    ]);
    for (const p of plan.problems) expect(p.problem.length).toBeGreaterThan(10);
    expect(plan.problems[3].problem).toMatch(/famil/);
    expect(plan.warnings).toEqual([]);
  });

  it('a value that is not a non-empty string, and a key that is not a pool name, are reported', () => {
    const plan = planVipPoolsMigration({ empty: '', num: 42, Bad_Name: '10.0.0.0/24', good: '10.0.9.0/24' });
    expect(plan.pools.map((p) => p.metadata.name)).toEqual(['good']);
    expect(plan.problems.map((p) => p.entry)).toEqual(['setting empty', 'setting num', 'setting Bad_Name']);
    expect(plan.problems[2].problem).toMatch(/^InvalidEvent: metadata.name "Bad_Name"/);
  });

  it('a setting that is not an object is reported and nothing is planned', () => {
    for (const setting of [null, 'default=10.0.0.0/24', ['10.0.0.0/24'], 7]) {
      const plan = planVipPoolsMigration(setting);
      expect(plan.pools).toEqual([]);
      expect(plan.history).toEqual([]);
      expect(plan.problems).toEqual([{ entry: 'setting', problem: expect.stringMatching(/JSON object/) }]);
    }
  });

  it('overlaps (within a key or across keys) are not caught by the plan: PoolCreated rejects them (RangeOverlap)', () => {
    const plan = planVipPoolsMigration({
      ns: '10.0.0.0/24,10.0.0.0/25',
      a: '10.5.0.0/24',
      b: '10.5.0.100-10.5.0.120',
    });
    // the plan only parses each pool on its own (rules 1-2); rules 3-4 need the other pools
    expect(plan.problems).toEqual([]);
    expect(plan.pools.map((p) => p.metadata.name)).toEqual(['ns', 'a', 'b']);
    const w = new World();
    expect(w.createRejected(plan.pools[0]).code).toBe('RangeOverlap');
    w.mustCreate(plan.pools[1]);
    expect(w.createRejected(plan.pools[2])).toEqual({
      code: 'RangeOverlap',
      reason: expect.stringMatching(/pool "a"/),
    });
  });
});

describe('section 8: kube-vip records become history', () => {
  const setting = {
    default: '172.16.0.0/24',
    demo: '172.16.2.50-172.16.2.100',
    global: '10.1.0.1-10.1.0.254',
  };

  it('a vip goes to its namespace pool when that pool holds it, else to the global pool; 0.0.0.0 is skipped', () => {
    const plan = planVipPoolsMigration(setting, {
      default: {
        services: [
          { vip: '172.16.0.9', serviceName: 'web' },
          { vip: '10.1.0.7', serviceName: 'api' },
        ],
      },
      demo: {
        services: [
          { vip: '172.16.2.60', serviceName: 'db' },
          { vip: '0.0.0.0', serviceName: 'pending' },
        ],
      },
      other: { services: [{ vip: '10.1.0.8', serviceName: 'cache' }] },
    });
    expect(plan.problems).toEqual([]);
    expect(plan.history).toEqual([
      { ipPool: 'default', entries: [{ ip: '172.16.0.9', loadBalancer: 'default/web' }] },
      {
        ipPool: 'global',
        entries: [
          { ip: '10.1.0.7', loadBalancer: 'default/api' },
          { ip: '10.1.0.8', loadBalancer: 'other/cache' },
        ],
      },
      { ipPool: 'demo', entries: [{ ip: '172.16.2.60', loadBalancer: 'demo/db' }] },
    ]);
  });

  it('a vip that neither pool holds (outside, or the gateway), and a malformed record, are reported', () => {
    const plan = planVipPoolsMigration(setting, {
      default: {
        services: [
          { vip: '192.168.9.9', serviceName: 'lost' },
          { vip: '10.1.0.1', serviceName: 'gw' },
          { vip: '172.16.2.60', serviceName: 'wrongns' },
          { vip: 'bogus', serviceName: 'bad' },
          { serviceName: 'novip' },
          { vip: '172.16.0.5' },
        ],
      },
      nopool: { services: [{ vip: '172.16.0.6', serviceName: 'x' }] },
    });
    expect(plan.history).toEqual([]);
    expect(plan.problems.map((p) => p.entry)).toEqual([
      'kube-vip default/lost 192.168.9.9',
      'kube-vip default/gw 10.1.0.1',
      'kube-vip default/wrongns 172.16.2.60',
      'kube-vip default/bad bogus',
      'kube-vip default/novip ',
      'kube-vip default/ 172.16.0.5',
      'kube-vip nopool/x 172.16.0.6',
    ]);
    expect(plan.problems[0].problem).toBe('neither pool "default" nor the global pool holds 192.168.9.9');
    expect(plan.problems[4].problem).toMatch(/vip and serviceName/);
  });

  it('applied to a state, each kube-vip load balancer gets its old address back (fromHistory)', () => {
    const plan = planVipPoolsMigration(setting, {
      default: {
        services: [
          { vip: '172.16.0.9', serviceName: 'web' },
          { vip: '10.1.0.77', serviceName: 'api' },
        ],
      },
      demo: { services: [{ vip: '172.16.2.99', serviceName: 'db' }] },
      elsewhere: { services: [{ vip: '10.1.0.200', serviceName: 'cache' }] },
    });
    expect(plan.problems).toEqual([]);
    const w = applyPlan(plan);
    expect(w.status('default').allocatedHistory).toEqual({ '172.16.0.9': 'default/web' });
    expect(w.status('global').allocatedHistory).toEqual({
      '10.1.0.77': 'default/api',
      '10.1.0.200': 'elsewhere/cache',
    });

    // someone new first: next-fit from the start, not the historic addresses
    expect(w.ip('default/new')).toBe('172.16.0.2');
    expect(w.allocate('default/web')).toMatchObject({
      ipPool: 'default',
      ip: '172.16.0.9',
      fromHistory: true,
    });
    expect(w.allocate('demo/db')).toMatchObject({ ipPool: 'demo', ip: '172.16.2.99', fromHistory: true });
    expect(w.allocate('elsewhere/cache')).toMatchObject({
      ipPool: 'global',
      ip: '10.1.0.200',
      fromHistory: true,
    });
    // default/api's namespace pool does not hold 10.1.0.77: the plan put it in global, but the load
    // balancer is served by its namespace pool, where it has no history (semantics: history is per pool)
    expect(w.allocate('default/api')).toMatchObject({ ipPool: 'default', fromHistory: false });
    // next-fit in global goes on after the last allocation there; 10.1.0.77 stays in history for default/api
    expect(w.allocate('default/api2', { ipPool: 'global' })).toMatchObject({
      ip: '10.1.0.201',
      fromHistory: false,
    });
    expect(w.status('global').allocatedHistory).toEqual({ '10.1.0.77': 'default/api' });
  });
});
