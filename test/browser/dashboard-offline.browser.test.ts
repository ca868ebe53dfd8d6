import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { loadConfig } from '../../src/config/load.js';
import { createWebhookQueue, type WebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { testRedisUrl } from '../helpers/redis.js';
import {
  dashboardFixture,
  seedCampaign,
  type DashboardFixture,
} from '../redis/dashboard-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'offline-test-token-7d2e';
const LONG =
  'InvalidRequestBody: The request body could not be processed because the machine ' +
  'is onboarded to a tenant in another geography and the API refuses cross-geo actions here';

let fixture: DashboardFixture;
let queue: WebhookQueue;
let app: FastifyInstance;
let browser: Browser;
let context: BrowserContext;
let url = '';
let allFailed = '';
let mixed = '';
let cancelled = '';
/** Every URL the browser asked for, whichever page or script asked. */
const requested: string[] = [];
/** What the tests read of an element's box (no DOM types here). */
interface Box {
  scrollWidth: number;
  clientWidth: number;
  scrollHeight: number;
  clientHeight: number;
  textContent: string | null;
}
/** Every answer of 400 or more (a favicon 404 included). */
const failed: string[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run npm test (it installs it)`).toBe(true);
  fixture = dashboardFixture();
  const config = loadConfig({
    env: { REDIS_URL: testRedisUrl(), FLEETSCAN_PREFIX: fixture.prefix },
  });
  queue = createWebhookQueue(fixture.redis, config.redis.prefix);
  mixed = (
    await seedCampaign(fixture.store, {
      name: 'Mixed',
      total: 6,
      requested: 2,
      failed: 4,
      deferred: 0,
    })
  ).id;
  const failing = await seedCampaign(fixture.store, {
    name: 'Doomed',
    total: 3,
    requested: 0,
    failed: 0,
    deferred: 0,
  });
  allFailed = failing.id;
  for (const id of failing.ids) {
    await fixture.store.markSent(allFailed, id, Date.now());
    await fixture.store.markFailed(allFailed, id, LONG);
  }
  await fixture.store.setHostnames(allFailed, new Map([[failing.ids[0] ?? '', 'WS-FIN-0001']]));
  cancelled = (
    await seedCampaign(fixture.store, {
      name: 'Drill',
      total: 300,
      requested: 87,
      failed: 0,
      deferred: 0,
    })
  ).id;
  await fixture.store.setCampaignState(cancelled, 'cancelled');
  app = await buildDashboard(
    fixture.deps({
      queue,
      credentials: { token: TOKEN },
      // Long values in the narrowest tiles: "cancelled 14:20", "1,234 of 1,500".
      proof: () => Promise.resolve({ completed: 1_234, of: 1_500 }),
      killSwitch: (id) =>
        Promise.resolve(id === cancelled ? { cancelled: 85, alreadyFinal: 2, refused: 0 } : null),
      workers: () => Promise.resolve([]),
    }),
  );
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    httpCredentials: { username: 'ops', password: TOKEN },
  });
  context.on('request', (request) => requested.push(request.url()));
  context.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${String(response.status())} ${response.url()}`);
  });
}, 60_000);

afterAll(async () => {
  await context.close().catch(() => undefined);
  await browser.close().catch(() => undefined);
  await app.close().catch(() => undefined);
  await queue.close().catch(() => undefined);
  await fixture.close();
});

describe('dashboard offline', () => {
  it('loads the dashboard and the queue board without a single request leaving this origin', async () => {
    const page = await context.newPage();
    expect((await page.goto(url))?.status()).toBe(200);
    await page.goto(`${url}/campaigns/${allFailed}`);
    const board = await page.goto(`${url}/queues`);
    expect(board?.status()).toBe(200);
    expect(board?.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(board?.headers()['content-security-policy']).not.toContain('googleapis');
    await page.waitForLoadState('networkidle');
    expect(requested.filter((u) => u.startsWith(url))).not.toEqual([]);
    expect(requested.filter((u) => !u.startsWith(url) && !u.startsWith('data:'))).toEqual([]);
    // The board leads back to the dashboard.
    await page.click('#fleetscan-back');
    await page.waitForURL(`${url}/`);
    await page.close();
  });

  it('tells an all-failed campaign from a finished one and shows every reason in full', async () => {
    const page = await context.newPage();
    await page.goto(url);
    expect(await page.locator(`[data-campaign="${allFailed}"] [data-badge]`).textContent()).toBe(
      'all failed',
    );
    expect(await page.locator(`[data-campaign="${mixed}"] [data-badge]`).textContent()).toBe(
      'finished, 4 failed',
    );
    const group = page.locator(`[data-campaign="${allFailed}"] .reason-group`);
    expect(await group.locator('summary').innerText()).toMatch(/^InvalidRequestBody\s+3$/);
    await group.locator('summary').click();
    const message = group.locator('li');
    await expect.poll(() => message.isVisible()).toBe(true);
    expect(await message.innerText()).toContain('cross-geo actions here');
    // Wrapped, not cut: the element is as wide as its box, nothing hidden behind an ellipsis.
    const box = await message.evaluate((el: { scrollWidth: number; clientWidth: number }) => ({
      scroll: el.scrollWidth,
      client: el.clientWidth,
    }));
    expect(box.scroll).toBeLessThanOrEqual(box.client);
    // The device table names the device by its host name above its id.
    await page.goto(`${url}/campaigns/${allFailed}`);
    expect(await page.locator('table .hostname').allTextContents()).toEqual(['WS-FIN-0001']);
    await page.goto(url);
    // The budget names the cloud, tenant and app in words, the raw id in the title.
    expect(await page.locator('.budget-id').first().innerText()).toBe(
      'Commercial cloud · tenant tenant-1 · app app-1',
    );
    await page.close();
  });

  it('shows every stat whole, the no-workers banner, and no request fails (favicon)', async () => {
    for (const width of [1280, 900]) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height: 900 });
      await page.goto(url);
      await page.waitForLoadState('networkidle');
      const tiles = await page
        .locator('.stat dd')
        .evaluateAll((els: Box[]) =>
          els
            .filter(
              (el) => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight + 1,
            )
            .map((el) => el.textContent),
        );
      expect(tiles, `clipped at ${String(width)} px`).toEqual([]);
      const eta = page.locator(`[data-campaign="${cancelled}"] [data-stat="eta"] dd`);
      expect(await eta.innerText()).toMatch(/^cancelled\s+\d{2}:\d{2}$/);
      expect(await page.locator('[data-no-workers-banner]').isVisible()).toBe(true);
      expect(
        await page.locator(`[data-campaign="${cancelled}"] [data-kill-switch]`).innerText(),
      ).toContain('85 actions cancelled');
      await page.close();
    }
    expect(failed).toEqual([]);
  });

  it('shows the queue board dark, with the way back above it instead of over its footer', async () => {
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${url}/queues`);
    await page.waitForLoadState('networkidle');
    const background = String(
      await page.evaluate('getComputedStyle(document.body).backgroundColor'),
    );
    const [r = 255, g = 255, b = 255] = (background.match(/\d+/g) ?? []).map(Number);
    expect((r + g + b) / 3, background).toBeLessThan(60);
    // The way back sits in bull-board's header bar, visible, and leaves the bottom alone.
    const back = await page.locator('#fleetscan-back').boundingBox();
    expect(back?.y).toBeLessThan(58);
    expect(await page.locator('#fleetscan-back').isVisible()).toBe(true);
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    const covered = await page.evaluate(
      "document.elementFromPoint(20, window.innerHeight - 25)?.closest('#fleetscan-back') != null",
    );
    expect(covered).toBe(false);
    expect(await page.locator('link[rel="icon"]').first().getAttribute('href')).toBe(
      '/static/favicon.svg',
    );
    await page.close();
    expect(failed).toEqual([]);
  });
});
