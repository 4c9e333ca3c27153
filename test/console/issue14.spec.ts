/// <reference lib="dom" />
/**
 * The console and issue 14's additions, in Debian's chromium against the built service: a disabled
 * pool with excluded addresses made through the form (Auto assign, Exclude), shown as Disabled in the
 * list and on the address map; a dual-stack, shared load balancer requested through the form (IP
 * families, Sharing key), listed with both addresses and its sharers. Each test removes what it made.
 */
import type { Browser } from 'playwright-core';
import {
  spawnService,
  stopAllServices,
  testServiceEnv,
  type ServiceProcess,
} from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { waitFor } from '../support/stream-audit.js';
import {
  apiCall,
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
  service = spawnService(testServiceEnv(nats.url, { LOG_LEVEL: 'info', IPAM_STREAM: 'IPAM_CONSOLE_14' }));
  base = await service.httpUrl(20_000);
  await waitFor('the service to be ready', async () => (await fetch(`${base}/readyz`)).ok, {
    timeoutMs: 20_000,
  });
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

async function open(path: string): Promise<ConsolePage> {
  ui = await openConsole(browser, base);
  await ui.page.goto(path);
  await ui.page.locator('.live.on').waitFor();
  return ui;
}

test(
  'a pool made with Auto assign off and an Exclude list is Disabled in the list and marks those addresses on its map',
  async () => {
    try {
      const { page, screenshot, expectNoConsoleErrors } = await open('/pools/new');
      await page.getByLabel('Name', { exact: true }).fill('quiet-pool');
      await page.getByLabel('Auto assign').uncheck();
      const range = page.getByRole('group', { name: 'Range 1' });
      await range.getByLabel('Subnet').fill('10.90.0.0/24');
      await range.getByLabel('Exclude').fill('10.90.0.5, 10.90.0.10-10.90.0.12');
      await page.getByRole('tab', { name: /^Selector/ }).click();
      await page.getByRole('group', { name: 'Scope 1' }).getByLabel('Namespace').fill('team-quiet');
      await screenshot('create-form-disabled-excluded');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByRole('heading', { name: 'IP Pool: quiet-pool' }).waitFor();

      const stored = await apiCall<{
        spec: Record<string, unknown>;
        status: { excluded: string[]; total: number };
      }>(base, 'GET', '/v1/pools/quiet-pool');
      expect(stored.body.spec.autoAssign).toBe(false);
      expect(stored.body.spec.ranges).toEqual([
        { subnet: '10.90.0.0/24', exclude: ['10.90.0.5', '10.90.0.10-10.90.0.12'] },
      ]);
      expect(stored.body.status.excluded).toEqual(['10.90.0.5', '10.90.0.10-10.90.0.12']);
      expect(stored.body.status.total).toBe(253 - 4);

      // the address map: the exclude list apart from free addresses and the range's own bounds
      await page.getByRole('link', { name: '10.90.0.5 on the exclude list' }).waitFor();
      await page.getByRole('link', { name: '10.90.0.11 on the exclude list' }).waitFor();
      await page.getByRole('link', { name: '10.90.0.6 free' }).waitFor();
      await page.getByText('on the exclude list (4)').waitFor();
      await screenshot('address-map-excluded');

      // the list says Disabled; Edit shows the box unticked and the exclude list as written
      await page.getByRole('link', { name: 'IP Pools' }).click();
      const row = page.getByRole('row', { name: /quiet-pool/ });
      await expect(row.locator('.status').textContent()).resolves.toBe('Disabled');
      await page.getByRole('link', { name: 'Edit quiet-pool' }).click();
      await expect(page.getByLabel('Auto assign').isChecked()).resolves.toBe(false);
      await expect(
        page.getByRole('group', { name: 'Range 1' }).getByLabel('Exclude').inputValue(),
      ).resolves.toBe('10.90.0.5, 10.90.0.10-10.90.0.12');
      expectNoConsoleErrors();
    } finally {
      await removePools(base, 'quiet-pool');
    }
  },
  SLOW,
);

test(
  'a load balancer requested with both IP families and a sharing key is listed with both addresses and its sharers',
  async () => {
    try {
      const pool = {
        spec: {
          ranges: [{ subnet: '10.91.0.0/24' }, { subnet: 'fd00:91::/120' }],
          selector: { scope: [{ namespace: 'team-ds' }] },
        },
      };
      expect((await apiCall(base, 'PUT', '/v1/pools/ds-pool', pool)).status).toBe(201);
      const { page, screenshot, expectNoConsoleErrors } = await open('/loadbalancers');
      const form = page.getByRole('form', { name: 'Request an address' });
      const ask = async (name: string) => {
        await form.getByLabel('Namespace').fill('team-ds');
        await form.getByLabel('Name', { exact: true }).fill(name);
        await form.getByLabel('Sharing key (optional)').fill('front');
        await form
          .getByLabel('IP families')
          .selectOption({ label: 'IPv4 and IPv6 (dual-stack, IPv4 first)' });
        await form.getByRole('button', { name: 'Request' }).click();
      };
      await ask('web');
      await form.getByText('team-ds/web got 10.91.0.2 from ds-pool and fd00:91::2 from ds-pool.').waitFor();
      await ask('api');
      await form
        .getByText(
          'team-ds/api got 10.91.0.2 from ds-pool and fd00:91::2 from ds-pool, shared with team-ds/web.',
        )
        .waitFor();

      const web = page.getByRole('row', { name: /^team-ds\/web/ });
      await waitFor('both addresses and the sharer of team-ds/web', async () =>
        /10\.91\.0\.2\/24fd00:91::2\/120ds-pool.*team-ds\/api/.test((await web.textContent()) ?? ''),
      );
      await expect(web.getByRole('link', { name: 'fd00:91::2' }).count()).resolves.toBe(1);
      await expect(
        page
          .getByRole('row', { name: /^team-ds\/api/ })
          .getByRole('link', { name: 'team-ds/web' })
          .count(),
      ).resolves.toBe(1);
      await screenshot('loadbalancers-dual-stack-shared');
      expectNoConsoleErrors();
    } finally {
      await removePools(base, 'ds-pool');
    }
  },
  SLOW,
);
