import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Got } from 'got';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import { systemClock } from '../../src/shared/clock.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import {
  signInWithButton,
  startSignInSimulator,
  trustingNetwork,
} from '../helpers/entra-signin.js';
import { testRedisUrl } from '../helpers/redis.js';
import {
  dashboardFixture,
  seedCampaign,
  type DashboardFixture,
  type SeededCampaign,
} from '../redis/dashboard-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ACTIONS = ['pause', 'cancel', 'cancel-actions', 'retry-failed'] as const;

let sim: Simulator;
let http: Got;
let fx: DashboardFixture;
let app: FastifyInstance;
let browser: Browser;
let url = '';
let campaign: SeededCampaign;

/** A free loopback port: the redirect URI must name the dashboard's port before it listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  let simUrl: string;
  ({ sim, url: simUrl, http } = await startSignInSimulator());
  fx = dashboardFixture();
  const port = await freePort();
  const config = loadConfig({
    env: { DASHBOARD_SECRET: sim.credentials.clientSecret },
    overrides: {
      'redis.url': testRedisUrl(),
      'redis.prefix': fx.prefix,
      'dashboard.auth': 'entra',
      'dashboard.allowActions': true,
      'dashboard.entra.tenantId': sim.credentials.tenantId,
      'dashboard.entra.clientId': sim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'DASHBOARD_SECRET',
      'dashboard.entra.authorityHost': simUrl,
      'dashboard.entra.redirectUri': `http://127.0.0.1:${String(port)}/signin/callback`,
    },
  });
  campaign = await seedCampaign(fx.store, {
    name: 'Weekly fleet sweep',
    total: 6,
    requested: 2,
    failed: 2,
    deferred: 0,
  });
  app = await buildDashboard(
    fx.deps({
      credentials: config.dashboard,
      signIn: signInFromConfig(config, {
        redis: fx.redis,
        clock: systemClock,
        log: pino({ level: 'silent' }),
        network: trustingNetwork(http),
      }),
      allowActions: true,
      cancelActions: () => Promise.resolve({ cancelled: 0 }),
      retryFailed: () => Promise.resolve({ retried: 0 }),
      audit: createAuditLog(fx.redis, fx.prefix),
    }),
  );
  url = await app.listen({ port, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await app.close();
  await fx.close();
  await sim.close();
});

describe('dashboard sign-in in a real browser', () => {
  it('a viewer signs in, sees campaigns, and gets 403 naming the role on every action', async () => {
    // The simulator's certificate is self-signed; the dashboard itself is plain http on loopback.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // The buttons ask "are you sure?" first; the viewer says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    // Signed out, the page asked for shows the button; it leads through Entra and back there.
    await signInWithButton(
      page,
      url,
      `/campaigns/${campaign.id}?state=failed`,
      'vera@contoso.test',
    );
    await expect(page.locator('.who').textContent()).resolves.toContain('Vera Viewer');
    await expect(page.locator('.who .role').textContent()).resolves.toBe('Viewer');
    await expect(page.locator('main').textContent()).resolves.toContain('Weekly fleet sweep');
    await expect(page.title()).resolves.toContain('Weekly fleet sweep');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-fleetscan_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });

    // Pressing the buttons: each answers with the 403 page naming the role.
    await page.click(`form[action$="/${campaign.id}/pause"] button`);
    await expect(page.locator('.needed-role').textContent()).resolves.toContain(
      'This needs the FleetScan.Operator role',
    );
    await page.goto(`${url}/campaigns/${campaign.id}`);
    const csrf = await page.locator('main input[name="csrf"]').first().getAttribute('value');
    expect(csrf).toBeTruthy();

    // Posting to every action route directly with the viewer's session and a valid token.
    for (const action of ACTIONS) {
      const answer = await page.request.post(`${url}/campaigns/${campaign.id}/${action}`, {
        form: { csrf: csrf ?? '', confirm: 'Weekly fleet sweep' },
        headers: { origin: url },
        maxRedirects: 0,
      });
      expect(answer.status(), action).toBe(403);
      expect(await answer.text(), action).toContain('This needs the FleetScan.Operator role');
    }
    expect((await fx.store.getCampaign(campaign.id))?.state).toBe('running');

    // Signing out (the header's form, with its token) ends the session: the signed-out page
    // and the next page load offer the button again.
    await page.click('.signout button');
    await page.waitForURL(`${url}/signed-out`);
    await expect(page.locator('a.btn-signin').getAttribute('href')).resolves.toBe(
      '/signin?returnTo=%2F',
    );
    expect((await context.cookies(url)).map((c) => c.name)).not.toContain(
      '__Host-fleetscan_session',
    );
    const again = await page.goto(`${url}/audit`);
    expect(again?.status()).toBe(401);
    await expect(page.locator('a.btn-signin').getAttribute('href')).resolves.toBe(
      '/signin?returnTo=%2Faudit',
    );
    // The button signs in again, and comes back to the page asked for.
    await page.click('a.btn-signin');
    await page.click('button[value="vera@contoso.test"]');
    await page.waitForURL(`${url}/audit`);
    await expect(page.locator('.who .role').textContent()).resolves.toBe('Viewer');
    // A sign-out posted without the form's token ends nothing.
    const forged = await page.request.post(`${url}/signout`, {
      form: { 'signout-token': 'forged' },
      headers: { origin: url },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect((await page.goto(`${url}/`))?.status()).toBe(200);
    await context.close();
  });
});
