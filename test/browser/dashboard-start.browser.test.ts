import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { dashboardLifecycle } from '../../src/runtime/dashboard-lifecycle.js';
import { createCampaignControl } from '../../src/control/campaign-control.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { createCampaignStarter } from '../../src/dashboard/start/campaign-starter.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import {
  signInWithButton,
  startSignInSimulator,
  trustingNetwork,
} from '../helpers/entra-signin.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator } from '../redis/scan-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
/** Test users of the simulated Entra tenant (test/helpers/entra-signin.ts). */
const OPERATOR = 'otto@contoso.test';
const VIEWER = 'vera@contoso.test';
const BAD_LINES = [58, 147, 263];

let sim: Simulator;
let runtime: Runtime;
let app: FastifyInstance;
let browser: Browser;
let url = '';
const closers: (() => Promise<unknown>)[] = [];
const prefix = uniquePrefix('browser-start');

/**
 * The incident's list as a Defender export: a header, then 300 lines, of which the lines in
 * `BAD_LINES` (file line numbers) hold something that is not a machine id.
 */
function incidentCsv(ids: readonly string[]): Buffer {
  const lines = ['Device ID,Device Name'];
  let next = 0;
  for (let line = 2; line <= 301; line++) {
    lines.push(
      BAD_LINES.includes(line)
        ? `redis-cache-0${String(line)},redis-cache-0${String(line)}`
        : `${ids[next++] ?? ''},host-${String(line)}.contoso.example`,
    );
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** A port nobody listens on now: the sign-in's redirect URI must name it before the dashboard listens. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  // 20x compressed time: the API's 100/min and 1500/h become 100 per 3 s and 1500 per 3 min.
  const started = await startSimulator({
    fleet: 760,
    timeScale: 20,
    latencyMs: [2, 8],
    seed: 7,
    // Someone else's scan keeps a busy device busy for 10 h of API time (30 min here), so the
    // second campaign is still running when the kill switch is pressed, however loaded the host.
    lifecycle: { otherScanMs: 10 * 60 * 60_000 },
  });
  sim = started.sim;
  closers.push(
    () => sim.close(),
    () => sim.app.close(),
  );
  const config = scanTestConfig(testRedisUrl(), prefix, started, {
    'limits.windows': '100/3s,1500/180s',
    'limits.throttleDefault': '3s',
  });
  runtime = await buildRuntime(config, { role: 'browser-start-test' });
  closers.push(
    () => cleanupPrefix(testRedisUrl(), prefix),
    () => runtime.close(),
  );
  const worker = startRuntimeWorker(runtime, { concurrency: 8, pollActionStatuses: false });
  closers.push(() => worker.close());
  // People sign in with Entra ID, here the simulator's (HTTPS, test users with app roles).
  const entra = await startSignInSimulator();
  closers.push(() => entra.sim.close());
  const port = await freePort();
  const signInConfig = loadConfig({
    env: { DASHBOARD_SECRET: entra.sim.credentials.clientSecret },
    overrides: {
      'redis.url': testRedisUrl(),
      'redis.prefix': prefix,
      'dashboard.auth': 'entra',
      'dashboard.allowActions': true,
      'dashboard.entra.tenantId': entra.sim.credentials.tenantId,
      'dashboard.entra.clientId': entra.sim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'DASHBOARD_SECRET',
      'dashboard.entra.authorityHost': entra.url,
      'dashboard.entra.redirectUri': `http://127.0.0.1:${String(port)}/signin/callback`,
    },
  });
  const signIn = signInFromConfig(signInConfig, {
    redis: runtime.redis,
    clock: runtime.clock,
    log: pino({ level: 'silent' }),
    network: trustingNetwork(entra.http),
  });
  app = await buildDashboard({
    store: runtime.store,
    redis: runtime.redis,
    stats: runtime.callStats,
    budgets: [{ id: budgetIdFor(config), usage: () => runtime.limiter.usage() }],
    control: createCampaignControl({ store: runtime.store, lanes: runtime.lanes }),
    credentials: signInConfig.dashboard,
    signIn,
    allowActions: true,
    requireNoEviction: true,
    audit: createAuditLog(runtime.redis, prefix),
    // The kill switch and what it did, as `fleetscan dashboard` wires them.
    ...dashboardLifecycle(runtime),
    starter: createCampaignStarter({
      store: runtime.store,
      lanes: runtime.lanes,
      tenants: runtime.tenants,
      redis: runtime.redis,
      prefix,
      memory: config.retention.memory,
      bodyLimit: config.api.bodyLimit,
    }),
  });
  url = await app.listen({ port, host: '127.0.0.1' });
  closers.push(() => app.close());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  closers.push(() => browser.close());
}, 60_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A browser signed in as `username` through the simulated Entra ID's account picker. */
async function signedIn(username: string): Promise<{ page: Page; close: () => Promise<void> }> {
  // The simulator's certificate is self-signed: only its pages are concerned.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await signInWithButton(page, url, '/', username);
  return { page, close: () => context.close() };
}

/** Fills the new-campaign form's common fields, asks for the preview and waits for it. */
async function preview(page: Page, name: string, comment: string) {
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="comment"]', comment);
  await page.click('button.btn-preview');
  await page.locator('[data-preview]').waitFor();
}

describe('an on-call operator starts a campaign from the dashboard', () => {
  it('uploads 300 lines with 3 bad ones, confirms the preview, sees it finish, presses the kill switch on another by its name, and the audit shows both', async () => {
    const idle = sim.machines.filter((m) => m.simulation.busyWithOtherScan !== true);
    const busy = sim.machines.filter((m) => m.simulation.busyWithOtherScan === true);
    const incidentIds = idle.slice(0, 297).map((m) => m.id);
    const { page, close } = await signedIn(OPERATOR);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.click('a.btn-new');
    await page.waitForURL(`${url}/campaigns/new`);
    await page.setInputFiles('input[name="upload"]', {
      name: 'incident-4711.csv',
      mimeType: 'text/csv',
      buffer: incidentCsv(incidentIds),
    });
    await preview(page, 'Incident 4711: hosts reaching Redis', 'Incident 4711');
    const panel = page.locator('[data-preview]');
    expect(await panel.getAttribute('data-devices')).toBe('297');
    const invalidLines: (string | null)[] = [];
    for (const row of await panel.locator('[data-invalid-line]').all()) {
      invalidLines.push(await row.getAttribute('data-invalid-line'));
    }
    expect(invalidLines).toEqual(BAD_LINES.map(String));
    expect(await panel.locator('[data-preview-invalid]').innerText()).toContain('3 invalid lines');
    expect(await panel.innerText()).toContain('redis-cache-058');
    expect(await panel.locator('.floor').innerText()).toMatch(/scan budget/);
    // Nothing exists until the confirm.
    expect(await runtime.store.listCampaigns()).toEqual([]);

    await panel.locator('[data-confirm-start]').click();
    await page.waitForURL(/\/campaigns\/c-[a-z0-9]+$/);
    const incident = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect(await runtime.store.getCampaign(incident)).toMatchObject({
      total: 297,
      source: 'file:incident-4711.csv',
      createdBy: `dashboard:${OPERATOR}`,
    });
    // The campaign runs to the end, and its page says so.
    await expect
      .poll(async () => (await runtime.store.getCampaign(incident))?.state, {
        timeout: 90_000,
        interval: 250,
      })
      .toBe('finished');
    await page.reload();
    expect(await page.locator('[data-badge]').first().textContent()).toMatch(/finished/);

    // Another campaign, pasted: busy devices keep it running.
    await page.goto(`${url}/campaigns/new`);
    await page.fill(
      'textarea[name="ids"]',
      [...busy.slice(0, 20), ...idle.slice(297, 307)].map((m) => m.id).join('\n'),
    );
    await preview(page, 'Weekly sweep: finance', 'Weekly sweep');
    expect(await page.locator('[data-preview]').getAttribute('data-devices')).toBe('30');
    await page.locator('[data-confirm-start]').click();
    await page.waitForURL(/\/campaigns\/c-[a-z0-9]+$/);
    const weekly = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect(weekly).not.toBe(incident);

    // The kill switch: a wrong name is refused in the page and nothing is posted.
    const killForm = page.locator('form.action-cancel-actions');
    await killForm.locator('input[name="confirmName"]').fill('Weekly sweep');
    await killForm.locator('button').click();
    expect(
      await killForm
        .locator('input[name="confirmName"]')
        .evaluate((input) => (input as unknown as { validationMessage: string }).validationMessage),
    ).toContain('Type "Weekly sweep: finance" exactly');
    expect((await runtime.store.getCampaign(weekly))?.state).toBe('running');

    await killForm.locator('input[name="confirmName"]').fill('Weekly sweep: finance');
    // The kill switch answers once its cancels are sent, with the campaign's page again.
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/campaigns/${weekly}/cancel-actions`), {
        timeout: 60_000,
      }),
      killForm.locator('button').click(),
    ]);
    expect(answer.status(), await answer.text().catch(() => '')).toBe(303);
    await page.waitForLoadState();
    expect((await runtime.store.getCampaign(weekly))?.state).toBe('cancelled');
    await page.locator('[data-kill-switch="used"]').waitFor();

    // The audit log: both, by the operator.
    await page.goto(`${url}/audit`);
    const rows: string[][] = [];
    for (const tr of await page.locator('tbody tr').all()) {
      rows.push((await tr.locator('td').allInnerTexts()).map((text) => text.trim()));
    }
    const mine = rows.filter((r) => r[1]?.startsWith(`dashboard:${OPERATOR}`));
    expect(mine.map((r) => [r[3], r[4], r[6]])).toEqual(
      expect.arrayContaining([
        ['campaign.create', incident, 'ok'],
        ['campaign.create', weekly, 'ok'],
        ['campaign.cancel', weekly, 'ok'],
      ]),
    );
    expect(rows.find((r) => r[4] === incident)?.[7]).toBe(
      '297 devices from file:incident-4711.csv, 3 invalid lines left out',
    );
    expect(errors).toEqual([]);
    await close();
  }, 180_000);

  it('refuses the new-campaign page to a viewer, naming the role needed', async () => {
    const { page, close } = await signedIn(VIEWER);
    expect(await page.locator('a.btn-new').count()).toBe(0);
    const answer = await page.goto(`${url}/campaigns/new`);
    expect(answer?.status()).toBe(403);
    expect(await page.locator('.needed-role').innerText()).toContain(
      'This needs the FleetScan.Operator role (vera@contoso.test holds FleetScan.Viewer)',
    );
    await close();
  }, 60_000);
});
