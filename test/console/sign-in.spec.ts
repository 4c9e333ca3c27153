/// <reference lib="dom" />
/**
 * Signing in to the console when the API asks for a token (IPAM_HTTP_TOKENS_FILE): the console shows a
 * field labelled Token and a button Sign in, sends `Authorization: Bearer <token>` (the event stream
 * too), shows the signed-in name and role, says plainly what a role may not do (403), and signs out.
 * Without authentication (console.spec.ts) nobody is asked to sign in.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { spawnService, stopAllServices, testServiceEnv, type ServiceProcess } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { waitFor } from '../support/stream-audit.js';
import { launchChromium, openConsole, requireBuiltConsole, type ConsolePage } from './browser.js';

const VIEWER = 'viewer-token-7f3a';
const ADMIN = 'admin-token-91c2';
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

let dir: string;
let nats: TestNats;
let service: ServiceProcess;
let browser: Browser;
let base = '';
let ui: ConsolePage | null = null;

beforeAll(async () => {
  requireBuiltConsole();
  dir = mkdtempSync(join(tmpdir(), 'ipam-console-auth-'));
  const tokens = join(dir, 'tokens.yaml');
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { name: 'alice', role: 'viewer', tokenSha256: sha256(VIEWER) },
        { name: 'root', role: 'admin', tokenSha256: sha256(ADMIN) },
      ],
    }),
  );
  nats = await startTestNats();
  service = spawnService(testServiceEnv(nats.url, { LOG_LEVEL: 'info', IPAM_STREAM: 'IPAM_CONSOLE_AUTH', IPAM_HTTP_TOKENS_FILE: tokens }));
  base = await service.httpUrl(20_000);
  await waitFor('the service to be ready', async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 20_000 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await browser?.close();
  await service?.terminate().catch(() => undefined);
  await stopAllServices();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('the console asks for a token, shows who is signed in, says what a role may not do, and signs out', async () => {
  ui = await openConsole(browser, base);
  const { page, screenshot, expectAnswer, expectNoConsoleErrors } = ui;
  expectAnswer(401, /^\/v1\//); // before signing in, and for the wrong token
  expectAnswer(403, /^\/v1\/pools\/viewer-pool$/); // a viewer creating a pool
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await expect(page.locator('.live').textContent()).resolves.toMatch(/Offline/);
  await screenshot('sign-in');

  // a wrong token is refused at the field
  await page.getByLabel('Token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: /^Unauthorized: / }).waitFor();
  await expect(page.getByLabel('Token').getAttribute('aria-invalid')).resolves.toBe('true');

  // the viewer's token: signed in as alice (viewer), the pages load, the stream follows
  await page.getByLabel('Token').fill(VIEWER);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'IP Pools' }).waitFor();
  await expect(page.getByTestId('signed-in').textContent()).resolves.toBe('alice (viewer)');
  await page.locator('.live.on').waitFor();
  await screenshot('signed-in');

  // a viewer may not create a pool: the form says so and keeps what was typed
  await page.getByRole('link', { name: 'Create', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('viewer-pool');
  await page.getByRole('group', { name: 'Range 1' }).getByLabel('Subnet').fill('10.130.0.0/24');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  const refused = page.getByRole('alert').filter({ hasText: /^Forbidden: / });
  await refused.waitFor();
  expect(await refused.textContent()).toMatch(/alice has the role viewer; this needs admin/);
  await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('viewer-pool');

  // signed out, the console asks again; the admin's token creates the pool
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in').textContent()).resolves.toBe('root (admin)');
  await page.getByRole('heading', { name: 'IP Pool: Create' }).waitFor();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('heading', { name: 'IP Pool: viewer-pool' }).waitFor();
  const created = await fetch(`${base}/v1/pools/viewer-pool`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  expect(created.status).toBe(200);
  expect((await fetch(`${base}/v1/pools/viewer-pool`, { method: 'DELETE', headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
  expectNoConsoleErrors();
}, 120_000);
