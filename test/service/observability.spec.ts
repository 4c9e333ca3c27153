/**
 * What operators watch: the service's /metrics (the pool gauges under their names, the process and
 * Node.js default metrics, HTTP requests by route pattern), and the files written against those names,
 * deploy/prometheus/ipam-rules.yaml and deploy/grafana/ipam-pools.json, checked against the /metrics of
 * a running service (a real nats-server, the service in-process): every metric name an expression
 * reads must be one the service exposes (or a series the rules record).
 *
 * promtool is not used: Debian ships it only inside the `prometheus` package (the server and its web
 * assets, ~96 MB installed); test/support/promql.ts scans the expressions instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { REPO_ROOT, startTestService, waitUntilLive } from '../support/ipam-service.js';
import { exposedNames, PromqlError, scanPromql } from '../support/promql.js';

const RULES = join(REPO_ROOT, 'deploy', 'prometheus', 'ipam-rules.yaml');
const DASHBOARD = join(REPO_ROOT, 'deploy', 'grafana', 'ipam-pools.json');

let nats: TestNats;
let service: IpamService | undefined;

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`${service!.httpUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

/** Every sample of a text exposition: `name{labels}` (as written) -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function metricsText(): Promise<string> {
  const r = await get('/metrics');
  expect(r.status).toBe(200);
  return r.text;
}

beforeAll(async () => {
  nats = await startTestNats();
  service = await startTestService(nats.url, {
    IPAM_STREAM: 'IPAM_OBSERVABILITY',
    IPAM_INSTANCE_ID: 'observability',
    LOG_LEVEL: 'silent',
  });
  await waitUntilLive(service);
  // a pool of 14 addresses (10.9.0.1-10.9.0.14: the network, gateway and broadcast left out) with two held
  const pool = {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name: 'watched' },
    spec: { ranges: [{ subnet: '10.9.0.0/28' }], selector: { scope: [{ namespace: 'obs' }] } },
  };
  const put = await get('/v1/pools/watched', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pool),
  });
  expect(put.status).toBe(201);
  for (const lb of ['a', 'b'])
    expect((await get(`/v1/loadbalancers/obs/${lb}`, { method: 'PUT' })).status).toBe(200);
}, 30_000);

afterAll(async () => {
  await service?.close();
  await nats?.stop();
});

describe('/metrics', () => {
  it('ipam_pool_addresses (renamed from ipam_pool_total: a _total suffix is for counters), available and allocated per pool', async () => {
    const text = await metricsText();
    const m = samples(text);
    const status = JSON.parse((await get('/v1/pools/watched')).text).status as {
      total: number;
      available: number;
    };
    expect(m.get('ipam_pool_addresses{pool="watched"}')).toBe(status.total);
    expect(m.get('ipam_pool_available{pool="watched"}')).toBe(status.available);
    expect(m.get('ipam_pool_allocated{pool="watched"}')).toBe(2);
    expect(status.total - status.available).toBe(2);
    expect(text).toMatch(/^# TYPE ipam_pool_addresses gauge$/m);
    expect(exposedNames(text).has('ipam_pool_total')).toBe(false);
  });

  it('the default metrics of the process and of Node.js, on the service registry', async () => {
    const names = exposedNames(await metricsText());
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_version_info',
    ]) {
      expect([name, names.has(name)]).toEqual([name, true]);
    }
  });

  it('HTTP requests by method, route pattern and status, and their duration, per route', async () => {
    const before = samples(await metricsText());
    expect((await get('/v1/pools/watched')).status).toBe(200);
    expect((await get('/v1/pools/watched')).status).toBe(200);
    expect((await get('/v1/pools/not-there')).status).toBe(404);
    expect((await get('/v1/no-such-thing/abc123')).status).toBe(404);
    const badBody = await get('/v1/pools/x', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    expect(badBody.status).toBe(400);
    const text = await metricsText();
    const after = samples(text);
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    const byName = 'ipam_http_requests_total{method="GET",route="/v1/pools/:name",status=';
    expect(delta(`${byName}"200"}`)).toBe(2);
    expect(delta(`${byName}"404"}`)).toBe(1);
    // the raw path never becomes a label value: unknown paths, and requests answered before routing
    // (a body that is not JSON), count under one value
    expect(text).not.toContain('not-there');
    expect(text).not.toContain('abc123');
    expect(delta('ipam_http_requests_total{method="GET",route="(unmatched)",status="404"}')).toBe(1);
    expect(delta('ipam_http_requests_total{method="PUT",route="(unmatched)",status="400"}')).toBe(1);
    expect(delta('ipam_http_request_duration_seconds_count{method="GET",route="/v1/pools/:name"}')).toBe(3);
    expect(
      after.get('ipam_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/pools/:name"}'),
    ).toBe(after.get('ipam_http_request_duration_seconds_count{method="GET",route="/v1/pools/:name"}'));
    // the scrape before this one counted too
    expect(
      delta('ipam_http_requests_total{method="GET",route="/metrics",status="200"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('the decider and lag figures the alerts read: a decider present, no lag, the lag not growing', async () => {
    const m = samples(await metricsText());
    expect(m.get('ipam_decider_present')).toBe(1);
    expect(m.get('ipam_leader')).toBe(1);
    expect(m.get('ipam_lag_messages')).toBe(0);
    expect(m.get('ipam_lag_growing')).toBe(0);
  });
});

describe('the PromQL checker (test/support/promql.ts)', () => {
  it('finds the metric names an expression reads, not its labels, functions, ranges or variables', () => {
    expect(
      scanPromql(
        'histogram_quantile(0.99, sum by (job, le) (rate(ipam_decision_seconds_bucket{job=~"$job", code!="x"}[$__rate_interval])))',
      ),
    ).toEqual({
      metrics: ['ipam_decision_seconds_bucket'],
      functions: ['histogram_quantile', 'rate', 'sum'],
    });
    expect(
      scanPromql(
        'ipam:pool_available:min == 0 and on (job, pool) max by (job, pool) (ipam_pool_addresses) > 0',
      ).metrics,
    ).toEqual(['ipam:pool_available:min', 'ipam_pool_addresses']);
    expect(scanPromql('max(up offset 5m) / ignoring(x) group_left (y) foo[10m:1m]').metrics).toEqual([
      'foo',
      'up',
    ]);
  });

  it.each([
    ['rat(ipam_outcomes_total[5m])', /unknown function rat/],
    ['sum(rate(ipam_outcomes_total[5m])', /unclosed \(/],
    ['ipam_outcomes_total{code="x}', /unterminated string|unclosed \{/],
    ['rate(ipam_outcomes_total[five])', /is not a range/],
    ['sum by job (x)', /by without a label list/],
  ])('refuses %s', (expr, why) => {
    expect(() => scanPromql(expr)).toThrow(PromqlError);
    expect(() => scanPromql(expr)).toThrow(why);
  });
});

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('deploy/prometheus/ipam-rules.yaml', () => {
  const doc = parseYaml(readFileSync(RULES, 'utf8')) as {
    groups: Array<{ name: string; interval?: string; rules: Rule[] }>;
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  const alerts = new Map(rules.filter((r) => r.alert).map((r) => [r.alert!, r]));
  const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record!));

  it('is a Prometheus rule file: groups of uniquely named rules, each a record or an alert with an expression', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    expect(new Set(doc.groups.map((g) => g.name)).size).toBe(doc.groups.length);
    const duration = /^(\d+(ms|s|m|h|d|w|y))+$/;
    for (const g of doc.groups) {
      if (g.interval !== undefined) expect(g.interval).toMatch(duration);
      for (const r of g.rules) {
        expect([r.alert ?? r.record, Boolean(r.record) !== Boolean(r.alert)]).toEqual([
          r.alert ?? r.record,
          true,
        ]);
        expect(typeof r.expr).toBe('string');
        if (r.record) expect(r.record).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        if (r.alert) {
          expect(r.alert).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
          if (r.for !== undefined) expect(r.for).toMatch(duration);
          expect([r.alert, r.labels?.severity]).toEqual([
            r.alert,
            expect.stringMatching(/^(warning|critical)$/),
          ]);
          expect(r.annotations?.summary).toEqual(expect.any(String));
        }
      }
    }
    expect(alerts.size + recorded.size).toBe(rules.length);
  });

  it('every expression parses, and every metric it reads is on /metrics or recorded by the rules', async () => {
    const exposed = exposedNames(await metricsText());
    const unknown: string[] = [];
    for (const r of rules) {
      const { metrics } = scanPromql(r.expr);
      expect([r.alert ?? r.record, metrics.length > 0]).toEqual([r.alert ?? r.record, true]);
      for (const name of metrics)
        if (!exposed.has(name) && !recorded.has(name)) unknown.push(`${r.alert ?? r.record}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('pool utilisation at 75 % and 85 % (warning) and 95 % (critical), from available over addresses', () => {
    const utilisation = rules.find((r) => r.record === 'ipam:pool_utilisation:ratio')!;
    expect(scanPromql(utilisation.expr).metrics).toEqual(['ipam_pool_addresses', 'ipam_pool_available']);
    const thresholds = [...alerts.values()]
      .filter((a) => a.expr.startsWith('ipam:pool_utilisation:ratio >='))
      .map((a) => [a.alert, Number(a.expr.split('>=')[1]), a.labels!.severity]);
    expect(thresholds).toEqual([
      ['IpamPoolUtilisation75', 0.75, 'warning'],
      ['IpamPoolUtilisation85', 0.85, 'warning'],
      ['IpamPoolUtilisation95', 0.95, 'critical'],
    ]);
  });

  it.each([
    ['IpamPoolExhausted', 'ipam_pool_available', 'critical'],
    ['IpamNoDecider', 'ipam_decider_present', 'critical'],
    ['IpamLagGrowing', 'ipam_lag_growing', 'warning'],
    ['IpamOutcomesRefused', 'ipam_outcomes_refused_total', 'warning'],
  ])('%s reads %s (%s)', (name, metric, severity) => {
    const a = alerts.get(name);
    expect(a?.labels?.severity).toBe(severity);
    const reads = scanPromql(a!.expr).metrics.flatMap((m) =>
      recorded.has(m) ? scanPromql(rules.find((r) => r.record === m)!.expr).metrics : [m],
    );
    expect(reads).toContain(metric);
  });
});

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; refId: string }>;
}

describe('deploy/grafana/ipam-pools.json', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: { query: string } }> };
  };
  const queries = dash.panels.filter((p) => p.type !== 'row');
  const variables = dash.templating.list;

  it('is a Grafana dashboard: unique panel ids, every query panel on the ${datasource} variable with a query', () => {
    expect(dash.uid).toBe('ipam-pools');
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    expect(variables.map((v) => v.name)).toEqual(['datasource', 'job', 'pool']);
    for (const p of queries) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it('every expression (panels and variables) parses, and every metric it reads is on /metrics', async () => {
    const exposed = exposedNames(await metricsText());
    const unknown: string[] = [];
    const check = (where: string, expr: string) => {
      const { metrics } = scanPromql(expr);
      expect([where, metrics.length > 0]).toEqual([where, true]);
      for (const name of metrics) if (!exposed.has(name)) unknown.push(`${where}: ${name}`);
    };
    for (const p of queries) for (const t of p.targets!) check(p.title, t.expr);
    for (const v of variables.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.+),\s*\w+\)$/.exec(v.query!.query);
      expect([v.name, m !== null]).toEqual([v.name, true]);
      check(`$${v.name}`, m![1]);
    }
    expect(unknown).toEqual([]);
  });

  it('shows utilisation per pool, allocations and releases, rejections by code, decision latency, lag and the decider', () => {
    const exprs = (title: RegExp) =>
      queries.filter((p) => title.test(p.title)).flatMap((p) => p.targets!.map((t) => t.expr));
    const reads = (title: RegExp) => exprs(title).flatMap((e) => scanPromql(e).metrics);
    expect(reads(/^Utilisation per pool/)).toEqual(
      expect.arrayContaining(['ipam_pool_available', 'ipam_pool_addresses']),
    );
    expect(exprs(/^Allocations and releases$/).join(' ')).toMatch(
      /subject="ipam\.ip\.allocated".*subject="ipam\.ip\.released"/,
    );
    expect(exprs(/^Rejections by code$/)).toEqual([expect.stringMatching(/sum by \(code.*code!=""/)]);
    expect(reads(/^Decision latency$/)).toContain('ipam_decision_seconds_bucket');
    expect(reads(/^Lag per instance$/)).toEqual(['ipam_lag_messages']);
    expect(reads(/^Decider present$/)).toEqual(['ipam_decider_present']);
  });
});
