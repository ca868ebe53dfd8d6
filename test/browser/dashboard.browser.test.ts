import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignControl } from '../../src/control/campaign-control.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { ScanWorker } from '../../src/scan/start-scan-worker.js';
import { startDashboardFixture, type DashboardFixture } from '../helpers/dashboard-fixture.js';

const TOKEN = 'browser-test-token-4f1c9a';
const ARTIFACTS = 'test/artifacts';

let fx: DashboardFixture;

/** Creates a campaign and enqueues its devices as `fleetscan scan` does. */
async function startCampaign(
  name: string,
  ids: readonly string[],
  createdBy: string,
): Promise<string> {
  const id = newCampaignId();
  const { runtime } = fx;
  await runtime.store.createCampaign({
    id,
    name,
    scanType: 'Quick',
    comment: `${name} [fleetscan:${id}]`,
    createdAt: Date.now(),
    createdBy,
    source: `file:${name.toLowerCase().replace(/\W+/g, '-')}.csv`,
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  const chunks = (async function* () {
    await Promise.resolve();
    yield ids;
  })();
  await enqueueDevices({ lanes: runtime.lanes, store: runtime.store, campaign: id, ids: chunks });
  return id;
}

beforeAll(async () => {
  fx = await startDashboardFixture({
    name: 'browser',
    // 20x compressed time: the API's 100/min and 1500/h become 100 per 3 s and 1500 per 3 min.
    simulator: { fleet: 760, timeScale: 20, latencyMs: [2, 8], seed: 7 },
    config: { 'limits.windows': '100/3s,1500/180s', 'limits.throttleDefault': '3s' },
    auth: { token: TOKEN },
    deps: ({ runtime }) => ({
      control: createCampaignControl({ store: runtime.store, lanes: runtime.lanes }),
    }),
  });
}, 60_000);

afterAll(async () => {
  await fx.close();
});

describe('dashboard in a real browser', () => {
  it('follows a running campaign on the simulator live and refuses visitors without credentials', async () => {
    const { sim, runtime, browser, url } = fx;
    // The pilot takes devices that are not busy with someone else's scan, so it ends at once.
    const idle = sim.machines
      .filter((m) => m.simulation.busyWithOtherScan !== true)
      .map((m) => m.id);
    const ids = [
      ...idle.slice(0, 40),
      ...sim.machines.map((m) => m.id).filter((id) => !idle.slice(0, 40).includes(id)),
    ];
    const worker: ScanWorker = startRuntimeWorker(runtime, {
      concurrency: 8,
      pollActionStatuses: false,
    });
    fx.onClose(() => worker.close());
    // A finished pilot first, so the page shows every kind of campaign.
    const pilot = await startCampaign(
      'Pilot: IT laptops',
      ids.slice(0, 40),
      'alice@contoso.example',
    );
    await expect
      .poll(async () => (await runtime.store.getCampaign(pilot))?.state, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe('finished');
    const incident = await startCampaign(
      'Incident sweep: finance VLAN',
      ids.slice(40, 160),
      'soc-oncall@contoso.example',
    );
    const weekly = await startCampaign(
      'Weekly fleet sweep',
      ids.slice(160),
      'ops-automation@contoso.example',
    );

    // A browser without credentials: the page, a fragment and /metrics all answer 401.
    const stranger = await browser.newContext();
    for (const path of ['/', '/fragments/overview', '/metrics', `/campaigns/${weekly}`]) {
      const refused = await stranger.request.get(`${url}${path}`);
      expect(refused.status(), path).toBe(401);
      expect(await refused.text()).not.toContain('Weekly fleet sweep');
    }
    await stranger.close();

    // A wall screen logs in once with the token as its password; the page then polls by itself.
    const context = await browser.newContext({
      viewport: { width: 1440, height: 1000 },
      httpCredentials: { username: 'wallscreen', password: TOKEN },
    });
    const page = await context.newPage();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    expect((await page.goto(url))?.status()).toBe(200);
    const card = page.locator(`[data-campaign="${weekly}"]`);
    const first = Number(await card.locator('.progress').getAttribute('aria-valuenow'));

    const poll = { timeout: 20_000, interval: 250 };
    const progress = async () =>
      Number(await card.locator('.progress').getAttribute('aria-valuenow'));
    await expect.poll(progress, poll).toBeGreaterThan(first);
    const scanUsed = async () =>
      (await page.locator('[data-family="scan"] .used').allTextContents()).map((t) =>
        Number(t.replace(/,/g, '')),
      );
    await expect.poll(async () => Math.max(...(await scanUsed())), poll).toBeGreaterThan(0);
    // Let the rate settle over a few polls so the screenshot shows a working wall screen.
    await expect
      .poll(() => card.locator('[data-stat="rate"] dd').textContent(), poll)
      .toMatch(/\/min$/);
    expect(navigations).toHaveLength(1); // live updates, no reload
    await expect(page.locator('#live-status').textContent()).resolves.toMatch(/^live/);
    const style = await page
      .locator('[data-family="scan"] .meter-fill')
      .first()
      .getAttribute('style');
    expect(Number(/width:\s*([\d.]+)%/.exec(style ?? '')?.[1])).toBeGreaterThan(0);
    await expect(page.locator(`[data-campaign="${incident}"]`).isVisible()).resolves.toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/dashboard.png`, fullPage: true });

    await page.click(`[data-campaign="${weekly}"] .campaign-name`);
    await page.waitForSelector('table.devices tbody tr');
    await expect(page.locator('form[action$="/pause"] button').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-campaign.png` });
    await page.selectOption('select[name="state"]', 'requested');
    await page.click('.filters button[type="submit"]');
    await page.waitForURL(/state=requested/);
    const states = await page.locator('table.devices tbody .pill').allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['requested']));
    await context.close();
  }, 90_000);
});
