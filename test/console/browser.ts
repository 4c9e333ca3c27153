/**
 * The console's browser tests: Debian's chromium (/usr/bin/chromium, `apt-get install -y chromium`)
 * driven by playwright-core, never a downloaded browser. It reaches nothing but the service under test:
 * no proxy, host names other than 127.0.0.1 do not resolve, and any request to another origin is
 * aborted and counted as a failure. Every browser console error and page error is recorded; a test ends
 * with `expectNoConsoleErrors()`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../support/ipam-service.js';

/** Where the tests put a screenshot of each page (CI keeps this folder). */
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');
export const CONSOLE_INDEX = join(REPO_ROOT, 'dist', 'console', 'index.html');

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return path;
}

export function requireBuiltConsole(): void {
  if (!existsSync(CONSOLE_INDEX)) throw new Error(`${CONSOLE_INDEX} does not exist: run "npm run build" first`);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 30_000,
    args: [
      '--no-proxy-server',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-domain-reliability',
      '--disable-sync',
      '--no-first-run',
      '--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions',
    ],
  });
}

/** An HTTP error answer the test provokes on purpose: chromium logs it as a console error, which is expected. */
export interface ExpectedAnswer {
  status: number;
  path: RegExp;
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** console errors and page errors not expected */
  errors: string[];
  /** requests to anything but the service */
  offsite: string[];
  expectAnswer(status: number, path: RegExp): void;
  screenshot(name: string): Promise<string>;
  expectNoConsoleErrors(): void;
  close(): Promise<void>;
}

const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

/**
 * A fresh browser context (its own storage) with one page on the console at `base`. A 404 from
 * /v1/whoami is expected while the API has no authentication (the console then asks nobody to sign in).
 */
export async function openConsole(
  browser: Browser,
  base: string,
  viewport = { width: 1366, height: 860 },
): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport, baseURL: base, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  const origin = new URL(base).origin;
  const offsite: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const expected: ExpectedAnswer[] = [{ status: 404, path: /^\/v1\/whoami$/ }];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const failed = FAILED_LOAD.exec(m.text());
    if (failed) {
      const path = new URL(m.location().url, base).pathname;
      if (expected.some((x) => x.status === Number(failed[1]) && x.path.test(path))) return;
      errors.push(`${m.text()} (${m.location().url})`);
      return;
    }
    errors.push(`console ${m.type()}: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    offsite,
    expectAnswer(status, path) {
      expected.push({ status, path });
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const file = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    expectNoConsoleErrors() {
      expect(errors).toEqual([]);
      expect(offsite).toEqual([]);
    },
    async close() {
      await context.close();
    },
  };
}

/** One call to the HTTP API from the test (setting up and cleaning up, or acting as another client). */
export async function apiCall<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Creates a pool through the API (a test's own setup). */
export async function createPool(base: string, name: string, subnet: string, scope: Record<string, string>): Promise<void> {
  const r = await apiCall(base, 'PUT', `/v1/pools/${name}`, { spec: { ranges: [{ subnet }], selector: { scope } } });
  if (r.status !== 201) throw new Error(`creating pool ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Removes what a test made: releases every load balancer of the pools, then deletes the pools. */
export async function removePools(base: string, ...names: string[]): Promise<void> {
  for (const name of names) {
    const lbs = await apiCall<{ items: { loadBalancer: string }[] }>(base, 'GET', `/v1/loadbalancers?pool=${name}`);
    for (const lb of lbs.body?.items ?? []) await apiCall(base, 'DELETE', `/v1/loadbalancers/${lb.loadBalancer}`);
    await apiCall(base, 'DELETE', `/v1/pools/${name}`);
  }
}
