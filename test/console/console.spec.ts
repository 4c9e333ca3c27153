/// <reference lib="dom" />
/**
 * The web console (apps/console), end to end in Debian's chromium: a real nats-server, the built service
 * (`node dist/apps/ipam/src/main.js`, which serves the console at /), and the pages driven by their
 * labels, as an operator uses them. Read top to bottom, this file is the console's specification:
 *
 *   - the four Harvester doc examples applied through the Create form (the fourth pasted in Edit as YAML)
 *     and listed on the IP Pools page, sortable and filtered by name;
 *   - a rejection (an overlapping range) shown with its code at the range it concerns, the form kept;
 *   - load balancers requested and released, the list following what others do, live;
 *   - Delete asks first and says PoolInUse plainly;
 *   - a pool's address map, allocations and as-of view, and an address timeline opened from it;
 *   - a narrow window, and the keyboard alone.
 *
 * Each test makes its own pools and removes them; none may leave a browser console error. Screenshots of
 * every page go to test-output/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, spawnService, stopAllServices, testServiceEnv, type ServiceProcess } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { waitFor } from '../support/stream-audit.js';
import {
  apiCall,
  createPool,
  launchChromium,
  openConsole,
  removePools,
  requireBuiltConsole,
  type ConsolePage,
} from './browser.js';

const SLOW = 120_000;

let nats: TestNats;
let service: ServiceProcess;
let browser: Browser;
let base = '';
let ui: ConsolePage | null = null;

beforeAll(async () => {
  requireBuiltConsole();
  nats = await startTestNats();
  service = spawnService(testServiceEnv(nats.url, { LOG_LEVEL: 'info', IPAM_STREAM: 'IPAM_CONSOLE' }));
  base = await service.httpUrl(20_000);
  await waitFor('the service to be ready', async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 20_000 });
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  await ui?.close();
  ui = null;
});

afterAll(async () => {
  await browser?.close();
  await service?.terminate().catch(() => undefined);
  await stopAllServices();
  await nats?.stop();
}, 60_000);

async function open(path = '/', viewport?: { width: number; height: number }): Promise<ConsolePage> {
  ui = await openConsole(browser, base, viewport);
  await ui.page.goto(path);
  await ui.page.locator('.live.on').waitFor(); // following the stream
  return ui;
}

/** The fourth doc example as the doc page's YAML, pasted as it is (indented as in the page's list). */
function docExampleYaml(n: number): string {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'examples', 'harvester-doc-examples.yaml'), 'utf8');
  return text.split(/^---$/m)[n - 1].replace(/^(#.*\n)+/, '');
}

interface PoolView {
  metadata: { name: string };
  spec: { ranges: Record<string, string>[]; selector: { priority: number; network?: string; scope: Record<string, string>[] } };
}

test('the four doc examples are applied through the Create form (the fourth as YAML) and listed as the doc page shows them', async () => {
  const names = ['default-ip-pool', 'rke2-ip-pool', 'default-ip-pool-2', 'global-ip-pool'];
  try {
    const { page, screenshot, expectNoConsoleErrors } = await open('/');
    await expect(page.getByRole('heading', { name: 'IP Pools' }).textContent()).resolves.toBe('IP Pools');

    const create = async (fill: () => Promise<void>, shot?: string) => {
      await page.getByRole('link', { name: 'Create', exact: true }).click();
      await page.getByRole('heading', { name: 'IP Pool: Create' }).waitFor();
      await fill();
      if (shot) await screenshot(shot);
      await page.getByRole('button', { name: 'Create', exact: true }).click();
    };
    const range = (n: number) => page.getByRole('group', { name: `Range ${n}` });
    const scope = (n: number) => page.getByRole('group', { name: `Scope ${n}` });
    const selectorTab = () => page.getByRole('tab', { name: /^Selector/ }).click();

    // Example 1: a pool for the default namespace
    await create(async () => {
      await page.getByLabel('Name', { exact: true }).fill('default-ip-pool');
      await range(1).getByLabel('Subnet').fill('192.168.100.0/24');
      await selectorTab();
      await scope(1).getByLabel('Namespace').fill('default');
    });
    await page.getByRole('heading', { name: 'IP Pool: default-ip-pool' }).waitFor();
    await page.getByText('Pool default-ip-pool created.').waitFor();

    // Example 2: an exclusive range for the guest cluster rke2 on network default/vlan1
    await page.getByRole('link', { name: 'IP Pools' }).click();
    await create(async () => {
      await page.getByLabel('Name', { exact: true }).fill('rke2-ip-pool');
      await range(1).getByLabel('Subnet').fill('192.168.10.0/24');
      await range(1).getByLabel('Start IP').fill('192.168.10.10');
      await range(1).getByLabel('End IP').fill('192.168.10.20');
      await selectorTab();
      await page.getByLabel('Network').fill('default/vlan1');
      await scope(1).getByLabel('Project').fill('product');
      await scope(1).getByLabel('Namespace').fill('default');
      await scope(1).getByLabel('Guest Cluster').fill('rke2');
      await page.getByRole('tab', { name: /^Range/ }).click();
    }, 'create-form');
    await page.getByRole('heading', { name: 'IP Pool: rke2-ip-pool' }).waitFor();

    // Example 3: the migration target, priority 1
    await page.getByRole('link', { name: 'IP Pools' }).click();
    await create(async () => {
      await page.getByLabel('Name', { exact: true }).fill('default-ip-pool-2');
      await range(1).getByLabel('Subnet').fill('192.168.200.0/24');
      await selectorTab();
      await page.getByLabel('Priority').fill('1');
      await scope(1).getByLabel('Namespace').fill('default');
      await screenshot('create-form-selector');
    });
    await page.getByRole('heading', { name: 'IP Pool: default-ip-pool-2' }).waitFor();

    // Example 4: the global pool, its YAML pasted from the doc page
    await page.getByRole('link', { name: 'IP Pools' }).click();
    await create(async () => {
      await page.getByRole('button', { name: 'Edit as YAML' }).click();
      await page.getByLabel('YAML').fill(docExampleYaml(4));
      await screenshot('create-form-yaml');
    });
    await page.getByRole('heading', { name: 'IP Pool: global-ip-pool' }).waitFor();

    // what the service holds is what the doc's YAML says
    const pools = await Promise.all(names.map(async (n) => (await apiCall<PoolView>(base, 'GET', `/v1/pools/${n}`)).body));
    expect(pools.map((p) => ({ ranges: p.spec.ranges, selector: p.spec.selector }))).toEqual([
      { ranges: [{ subnet: '192.168.100.0/24' }], selector: { priority: 0, scope: [{ project: '', namespace: 'default', guestCluster: '' }] } },
      {
        ranges: [{ subnet: '192.168.10.0/24', rangeStart: '192.168.10.10', rangeEnd: '192.168.10.20' }],
        selector: { priority: 0, network: 'default/vlan1', scope: [{ project: 'product', namespace: 'default', guestCluster: 'rke2' }] },
      },
      { ranges: [{ subnet: '192.168.200.0/24' }], selector: { priority: 1, scope: [{ project: '', namespace: 'default', guestCluster: '' }] } },
      { ranges: [{ subnet: '192.168.20.0/24' }], selector: { priority: 0, scope: [{ project: '*', namespace: '*', guestCluster: '*' }] } },
    ]);

    // the IP Pools page: name, network, priority, scope, ranges, allocated / total, status
    await page.getByRole('link', { name: 'IP Pools' }).click();
    const rows = page.locator('table.pools tbody tr');
    await waitFor('the four pools listed', async () => (await rows.count()) === 4);
    const cells = async () =>
      rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).slice(0, 7).map((c) => (c.textContent ?? '').trim())));
    expect(await cells()).toEqual([
      ['default-ip-pool', '—', '0', 'namespace=default', '192.168.100.0/24', '0 / 253', 'Active'],
      ['default-ip-pool-2', '—', '1', 'namespace=default', '192.168.200.0/24', '0 / 253', 'Active'],
      ['global-ip-pool', '—', '0', 'global', '192.168.20.0/24', '0 / 253', 'Active'],
      ['rke2-ip-pool', 'default/vlan1', '0', 'project=product,namespace=default,cluster=rke2', '192.168.10.10-192.168.10.20', '0 / 11', 'Active'],
    ]);
    await screenshot('pools');

    // sorted by priority, highest first
    await page.getByRole('button', { name: /^Priority/ }).click();
    await page.getByRole('button', { name: /^Priority/ }).click();
    await expect(page.getByRole('columnheader', { name: /^Priority/ }).getAttribute('aria-sort')).resolves.toBe('descending');
    expect((await cells())[0][0]).toBe('default-ip-pool-2');

    // filtered by name
    await page.getByLabel('Filter by name').fill('rke2');
    await waitFor('one pool left', async () => (await rows.count()) === 1);
    expect((await cells())[0][0]).toBe('rke2-ip-pool');

    // Edit shows the pool in the form, and Save keeps it
    await page.getByRole('link', { name: 'Edit rke2-ip-pool' }).click();
    await page.getByRole('heading', { name: 'IP Pool: rke2-ip-pool' }).waitFor();
    await expect(page.getByRole('group', { name: 'Range 1' }).getByLabel('Start IP').inputValue()).resolves.toBe('192.168.10.10');
    await page.getByLabel('Description').fill('the guest cluster rke2');
    await screenshot('edit-form');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Pool rke2-ip-pool saved.').waitFor();
    expect((await apiCall<PoolView & { spec: { description?: string } }>(base, 'GET', '/v1/pools/rke2-ip-pool')).body.spec.description).toBe(
      'the guest cluster rke2',
    );
    expectNoConsoleErrors();
  } finally {
    await removePools(base, ...names);
  }
}, SLOW);

test('an overlapping range is rejected with its code at that range, and nothing typed is lost', async () => {
  try {
    await createPool(base, 'taken', '10.60.0.0/24', { namespace: 'team-a' });
    const { page, screenshot, expectAnswer, expectNoConsoleErrors } = await open('/pools/new');
    expectAnswer(422, /^\/v1\/pools\/overlapping$/);
    await page.getByLabel('Name', { exact: true }).fill('overlapping');
    await page.getByLabel('Description').fill('kept after the rejection');
    await page.getByRole('group', { name: 'Range 1' }).getByLabel('Subnet').fill('10.61.0.0/24');
    await page.getByRole('button', { name: 'Add Range' }).click();
    await page.getByRole('group', { name: 'Range 2' }).getByLabel('Subnet').fill('10.60.0.128/25');
    await page.getByRole('tab', { name: /^Selector/ }).click();
    await page.getByRole('group', { name: 'Scope 1' }).getByLabel('Namespace').fill('team-b');
    await page.getByRole('button', { name: 'Create', exact: true }).click();

    // the message sits in Range 2, the range it concerns; the Range tab is shown and says so
    const problem = page.getByRole('group', { name: 'Range 2' }).getByRole('alert');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/^RangeOverlap: spec\.ranges\[1\] 10\.60\.0\.128\/25 .* of pool "taken"/);
    await expect(page.getByRole('tab', { name: /^Range/ }).textContent()).resolves.toBe('Range (1 problem)');
    await expect(page.getByRole('tab', { name: /^Range/ }).getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.getByRole('group', { name: 'Range 2' }).getByLabel('Subnet').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByRole('group', { name: 'Range 1' }).getByRole('alert').count()).resolves.toBe(0);
    await screenshot('create-form-rejected');

    // everything typed is still there
    await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('overlapping');
    await expect(page.getByLabel('Description').inputValue()).resolves.toBe('kept after the rejection');
    await expect(page.getByRole('group', { name: 'Range 1' }).getByLabel('Subnet').inputValue()).resolves.toBe('10.61.0.0/24');
    await page.getByRole('tab', { name: /^Selector/ }).click();
    await expect(page.getByRole('group', { name: 'Scope 1' }).getByLabel('Namespace').inputValue()).resolves.toBe('team-b');

    // nothing was created; corrected, it is
    expect((await apiCall(base, 'GET', '/v1/pools/overlapping')).status).toBe(404);
    await page.getByRole('tab', { name: /^Range/ }).click();
    await page.getByRole('group', { name: 'Range 2' }).getByLabel('Subnet').fill('10.62.0.0/24');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'IP Pool: overlapping' }).waitFor();
    const created = (await apiCall<PoolView>(base, 'GET', '/v1/pools/overlapping')).body;
    expect(created.spec.ranges).toEqual([{ subnet: '10.61.0.0/24' }, { subnet: '10.62.0.0/24' }]);
    expectNoConsoleErrors();
  } finally {
    await removePools(base, 'overlapping', 'taken');
  }
}, SLOW);

test('load balancers are requested and released, and the list follows what others do, live', async () => {
  try {
    await createPool(base, 'live-pool', '10.70.0.0/24', { namespace: 'team-live' });
    const { page, screenshot, expectAnswer, expectNoConsoleErrors } = await open('/loadbalancers');
    expectAnswer(422, /^\/v1\/pools\/live-pool$/);
    const rows = page.locator('table.loadbalancers tbody tr');
    const listed = async () =>
      rows.evaluateAll((trs) => trs.map((tr) => (tr.querySelector('th')?.textContent ?? '').trim()).filter(Boolean));

    // request one through the form
    await page.getByLabel('Namespace', { exact: true }).fill('team-live');
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByRole('button', { name: 'Request' }).click();
    await page.getByText('team-live/web got 10.70.0.2 from live-pool.').waitFor();
    await waitFor('team-live/web listed', async () => (await listed()).includes('team-live/web'));

    // others request and release: the page follows without being loaded again
    await page.evaluate(() => ((window as unknown as { kept: boolean }).kept = true));
    expect((await apiCall(base, 'PUT', '/v1/loadbalancers/team-live/api', {})).status).toBe(200);
    expect((await apiCall(base, 'PUT', '/v1/loadbalancers/team-live/db', {})).status).toBe(200);
    await waitFor('the others listed', async () => (await listed()).join(' ') === 'team-live/api team-live/db team-live/web');
    await screenshot('loadbalancers');
    expect((await apiCall(base, 'DELETE', '/v1/loadbalancers/team-live/api')).status).toBe(200);
    await waitFor('team-live/api gone', async () => (await listed()).join(' ') === 'team-live/db team-live/web');
    expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept)).toBe(true);

    // filters
    await page.getByLabel('Filter by pool').selectOption('live-pool');
    await page.getByLabel('Filter by namespace').fill('elsewhere');
    await page.getByLabel('Filter by namespace').press('Enter');
    await page.getByText('No load balancer holds an address with these filters.').waitFor();
    expect(new URL(page.url()).search).toBe('?namespace=elsewhere&pool=live-pool');
    await page.getByLabel('Filter by namespace').fill('team-live');
    await page.getByLabel('Filter by namespace').press('Enter');
    await waitFor('both listed again', async () => (await listed()).length === 2);

    // release one through the page: it asks first
    await page.getByRole('button', { name: 'Release team-live/web' }).click();
    const dialog = page.getByRole('dialog', { name: 'Release team-live/web?' });
    await dialog.getByRole('button', { name: 'Release' }).click();
    await waitFor('team-live/web released', async () => (await listed()).join(' ') === 'team-live/db');
    expect((await apiCall(base, 'GET', '/v1/loadbalancers/team-live/web')).status).toBe(404);

    // Delete asks first, and a pool in use says PoolInUse plainly
    await page.getByRole('link', { name: 'IP Pools' }).click();
    await page.getByRole('button', { name: 'Delete live-pool' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete pool live-pool?' });
    await ask.getByRole('button', { name: 'Delete' }).click();
    await ask.getByRole('alert').waitFor();
    expect(await ask.getByRole('alert').textContent()).toMatch(/^PoolInUse: /);
    await screenshot('delete-pool-in-use');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    expect((await apiCall(base, 'GET', '/v1/pools/live-pool')).status).toBe(200);
    expectNoConsoleErrors();
  } finally {
    await removePools(base, 'live-pool');
  }
}, SLOW);

test("a pool's page shows its address map, allocations and the pool as of a sequence, and links to an address timeline", async () => {
  try {
    await createPool(base, 'audit-pool', '10.80.0.0/24', { namespace: 'team-audit' });
    const put = (lb: string) => apiCall<{ ip: string }>(base, 'PUT', `/v1/loadbalancers/team-audit/${lb}`, {});
    expect((await put('web')).body.ip).toBe('10.80.0.2');
    await apiCall(base, 'DELETE', '/v1/loadbalancers/team-audit/web');
    expect((await put('cache')).body.ip).toBe('10.80.0.3');
    expect((await put('web')).body.ip).toBe('10.80.0.2'); // back from history
    const holders = (await apiCall<{ holders: { from: { seq: number }; to: { seq: number } | null }[] }>(base, 'GET', '/v1/audit/addresses/10.80.0.2')).body.holders;

    const { page, screenshot, expectNoConsoleErrors } = await open('/pools/audit-pool');
    await page.getByRole('heading', { name: 'IP Pool: audit-pool' }).waitFor();
    // the address map: gateway, allocated, excluded (network and broadcast)
    await page.getByRole('link', { name: '10.80.0.2 allocated to team-audit/web' }).waitFor();
    await page.getByRole('link', { name: '10.80.0.3 allocated to team-audit/cache' }).waitFor();
    await page.getByRole('link', { name: '10.80.0.1 gateway' }).waitFor();
    await page.getByRole('link', { name: '10.80.0.255 excluded' }).waitFor();
    // the allocations, with since
    const allocations = page.getByRole('table', { name: 'Allocations' });
    await waitFor('the two allocations of audit-pool', async () => (await allocations.locator('tbody tr').count()) === 2);
    // (since comes from the audit, which may read the allocation a moment after the pool has it)
    await waitFor('since of 10.80.0.2', async () =>
      /^10\.80\.0\.2team-audit\/web.*\(seq \d+\)yes$/.test((await allocations.locator('tbody tr').first().textContent()) ?? ''),
    );
    // as of the first allocation: only web held .2; as of its release: nothing held
    await page.getByLabel('or sequence').fill(String(holders[0].from.seq));
    await page.getByRole('button', { name: 'Show' }).click();
    const then = page.getByRole('region', { name: 'The pool as of then' });
    await then.getByText(`As of stream sequence ${holders[0].from.seq}`).waitFor();
    expect(await then.locator('tbody tr').allTextContents()).toEqual(['10.80.0.2team-audit/web']);
    await screenshot('pool-detail');
    await page.getByLabel('or sequence').fill(String(holders[0].to?.seq));
    await page.getByRole('button', { name: 'Show' }).click();
    await then.getByText('Nothing was allocated then.').waitFor();

    // the address timeline, from the allocations table
    await allocations.getByRole('link', { name: '10.80.0.2' }).click();
    await page.getByRole('heading', { name: 'Address 10.80.0.2' }).waitFor();
    const rows = page.locator('table.timeline-table tbody tr');
    // the timeline is asked for once the page shows: its rows come a moment after the heading
    await waitFor('the two holders of 10.80.0.2', async () => (await rows.count()) === 2);
    const notes = await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent?.trim(), tr.children[4].textContent?.trim()]));
    expect(notes).toEqual([
      ['team-audit/web', 'fresh, released'],
      ['team-audit/web', 'from history, holds it now'],
    ]);
    await expect(page.locator('.timeline .bar').count()).resolves.toBe(2);
    await screenshot('address-timeline');

    // and on to the load balancer's timeline
    await page.locator('.timeline').getByRole('link', { name: 'team-audit/web' }).click();
    await page.getByRole('heading', { name: 'Load balancer team-audit/web' }).waitFor();
    // "Reading the history…" until its timeline is read, then the rows
    await waitFor('the two holdings of team-audit/web', async () => (await rows.count()) === 2);
    await screenshot('loadbalancer-timeline');
    await page.getByRole('link', { name: 'Audit', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await screenshot('audit');
    expectNoConsoleErrors();
  } finally {
    await removePools(base, 'audit-pool');
  }
}, SLOW);

test('a narrow window scrolls no page sideways, and a pool can be created with the keyboard alone', async () => {
  try {
    const { page, screenshot, expectNoConsoleErrors } = await open('/', { width: 390, height: 844 });
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await sideways()).toBeLessThanOrEqual(0);

    // Tab to Create, Enter; type the name and the subnet; Enter submits
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent?.trim())) === 'Create') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'IP Pool: Create' }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
    for (let i = 0; i < 5 && (await focused()) !== 'pool-name'; i++) await page.keyboard.press('Tab');
    await page.keyboard.type('keyboard-pool');
    for (let i = 0; i < 5 && (await focused()) !== 'range-0-subnet'; i++) await page.keyboard.press('Tab');
    await page.keyboard.type('10.90.0.0/24');
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot('create-form-narrow');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'IP Pool: keyboard-pool' }).waitFor();
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot('pool-detail-narrow');
    await page.getByRole('link', { name: 'IP Pools' }).click();
    await page.getByRole('link', { name: 'keyboard-pool', exact: true }).waitFor();
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot('pools-narrow');
    expectNoConsoleErrors();
  } finally {
    await removePools(base, 'keyboard-pool');
  }
}, SLOW);
