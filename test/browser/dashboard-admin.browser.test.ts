import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Got } from 'got';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, type TokenStore } from '../../src/api/tokens/token-store.js';
import { createAuditLog, type AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import { buildScheduleSpec } from '../../src/schedules/schedule-spec.js';
import { createScheduleStore, type ScheduleStore } from '../../src/schedules/schedule-store.js';
import { systemClock } from '../../src/shared/clock.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { createDestinationGuard } from '../../src/webhooks/webhook-destination.js';
import { createWebhookStore, type WebhookStore } from '../../src/webhooks/webhook-store.js';
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
const TEAMS_URL = 'https://contoso.webhook.office.com/workflows/abc123?sig=s3cretSig';
const ADMIN_PAGES = ['/admin/tokens', '/admin/webhooks', '/admin/schedules'] as const;

let sim: Simulator;
let http: Got;
let fx: DashboardFixture;
let app: FastifyInstance;
let browser: Browser;
let url = '';
let campaign: SeededCampaign;
let tokens: TokenStore;
let webhooks: WebhookStore;
let schedules: ScheduleStore;
let audit: AuditLog;

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
    total: 4,
    requested: 1,
    failed: 1,
    deferred: 0,
  });
  tokens = createTokenStore(fx.redis, fx.prefix);
  webhooks = createWebhookStore(fx.redis, fx.prefix);
  schedules = createScheduleStore(fx.redis, fx.prefix);
  audit = createAuditLog(fx.redis, fx.prefix);
  await schedules.put(
    buildScheduleSpec(
      { name: 'nightly', cron: '0 2 * * *', tz: 'Europe/Berlin', all: true, comment: 'Nightly' },
      'test',
      '/tmp',
    ),
    Date.now(),
  );
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
      audit,
      admin: {
        tokens,
        webhooks,
        // The API's guard, answering for names without asking a DNS server: the Teams host is
        // public, `intranet.contoso.test` internal.
        guard: createDestinationGuard({ allowHttp: false, allowNetworks: [] }, (host) =>
          Promise.resolve([
            { address: host.startsWith('intranet.') ? '10.1.2.3' : '52.96.1.2', family: 4 },
          ]),
        ),
        schedules,
        scheduleNow: () => Date.now(),
        baseDir: '/tmp',
      },
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

/** Opens `path` in a new browser context, signing in as `username` on the way. */
async function signedIn(username: string, path: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await signInWithButton(page, url, path, username);
  return page;
}

const text = async (page: Page, selector: string) =>
  (await page.locator(selector).first().textContent()) ?? '';

describe('admin pages in a real browser', () => {
  it('an admin creates a token, adds a Teams webhook and pauses a schedule; the audit names her', async () => {
    const page = await signedIn('ada@contoso.test', '/admin/tokens');
    await expect(text(page, 'nav a.nav-admin')).resolves.toBe('Admin');

    // A token: the secret is shown once and works against the store.
    await page.fill('input[name="name"]', 'sentinel-playbook');
    await page.uncheck('input[name="scope.read"]');
    await page.check('input[name="scope.write"]');
    await page.fill('input[name="expiresInDays"]', '30');
    await page.click('form[action="/admin/tokens"] button');
    const secret = await text(page, '#shown-secret');
    expect(secret).toMatch(/^fst_[0-9a-f]{10}_/);
    const verdict = await tokens.verify(secret);
    expect(verdict).toMatchObject({
      ok: true,
      token: { name: 'sentinel-playbook', scopes: ['write'] },
    });
    await page.goto(`${url}/admin/tokens`);
    const listed = await text(page, 'tr[data-token="sentinel-playbook"]');
    expect(listed).toContain('write');
    expect(listed).not.toContain('never'); // expiry set, last use just recorded
    expect(await page.content()).not.toContain(secret.slice(-43));

    // Bad input: a page naming the field, and nothing written.
    await page.fill('input[name="name"]', 'has spaces');
    await page.click('form[action="/admin/tokens"] button');
    await expect(text(page, '.refusal-message')).resolves.toContain('name: expected 1-64');
    expect((await tokens.list()).map((t) => t.name)).toEqual(['sentinel-playbook']);

    // A Teams webhook through the API's destination guard; its URL is shown masked.
    await page.goto(`${url}/admin/webhooks`);
    await page.fill('input[name="url"]', 'https://intranet.contoso.test/hook');
    await page.check('input[name="event.campaign.finished"]');
    await page.click('form[action="/admin/webhooks"] button');
    await expect(text(page, '.refusal-message')).resolves.toContain(
      'url: intranet.contoso.test is or resolves to 10.1.2.3, an internal address',
    );
    expect(await webhooks.list()).toEqual([]);
    await page.goto(`${url}/admin/webhooks`);
    await page.fill('input[name="url"]', TEAMS_URL);
    await page.check('input[name="event.campaign.finished"]');
    await page.check('input[name="event.campaign.failed-devices"]');
    await page.selectOption('select[name="format"]', 'teams');
    await page.click('form[action="/admin/webhooks"] button');
    await expect(text(page, '#shown-secret')).resolves.toMatch(/^whsec_/);
    const [subscription] = await webhooks.list();
    expect(subscription).toMatchObject({
      url: TEAMS_URL,
      format: 'teams',
      events: ['campaign.finished', 'campaign.failed-devices'],
      tenant: null,
      createdBy: 'dashboard:ada@contoso.test',
    });
    await page.goto(`${url}/admin/webhooks`);
    const row = await text(page, `tr[data-webhook="${subscription?.id ?? ''}"]`);
    expect(row).toContain('https://contoso.webhook.office.com/…');
    expect(row).toContain('teams');
    expect(await page.content()).not.toContain('s3cretSig');

    // Pausing the schedule, with a note.
    await page.goto(`${url}/admin/schedules`);
    await expect(text(page, 'tr[data-schedule="nightly"]')).resolves.toContain('Europe/Berlin');
    await page.fill('form[action="/admin/schedules/nightly/pause"] input[name="note"]', 'freeze');
    await page.click('form[action="/admin/schedules/nightly/pause"] button');
    await page.waitForURL(`${url}/admin/schedules`);
    expect((await schedules.get('nightly'))?.state).toMatchObject({ paused: true, note: 'freeze' });
    await expect(text(page, 'tr[data-schedule="nightly"]')).resolves.toContain('paused');

    // The audit page shows the three writes with the admin's UPN (and the refusals).
    await page.goto(`${url}/audit`);
    const rows = await page.locator('tbody tr').allTextContents();
    for (const action of ['token.create', 'webhook.create', 'schedule.pause']) {
      const done = rows.find((r) => r.includes(action) && r.includes('ok'));
      expect(done, action).toContain('dashboard:ada@contoso.test');
      expect(done, action).toContain('oid ');
    }
    expect(rows.find((r) => r.includes('token.create') && r.includes('refused'))).toContain(
      'name: expected',
    );
    await page.context().close();
  });

  it('an operator gets 403 naming FleetScan.Admin on every admin page and direct post', async () => {
    const page = await signedIn('otto@contoso.test', `/campaigns/${campaign.id}`);
    expect(await page.locator('nav a.nav-admin').count()).toBe(0);
    const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value');
    expect(csrf).toBeTruthy();
    for (const path of ADMIN_PAGES) {
      const answer = await page.goto(`${url}${path}`);
      expect(answer?.status(), path).toBe(403);
      await expect(text(page, '.needed-role')).resolves.toContain(
        'This needs the FleetScan.Admin role (otto@contoso.test holds FleetScan.Operator)',
      );
    }
    const [token] = await tokens.list();
    const [subscription] = await webhooks.list();
    const before = {
      tokens: JSON.stringify(await tokens.list()),
      webhooks: JSON.stringify(await webhooks.list()),
      schedule: JSON.stringify((await schedules.get('nightly'))?.spec),
    };
    const posts: [string, Record<string, string>][] = [
      ['/admin/tokens', { name: 'operator-token', 'scope.write': 'on' }],
      [`/admin/tokens/${token?.id ?? ''}/revoke`, {}],
      ['/admin/webhooks', { url: TEAMS_URL, 'event.campaign.finished': 'on' }],
      [`/admin/webhooks/${subscription?.id ?? ''}/remove`, {}],
      ['/admin/schedules', { yaml: 'name: other\ncron: "0 3 * * *"\nall: true\ncomment: c' }],
      ['/admin/schedules/nightly/resume', {}],
      ['/admin/schedules/nightly/pause', {}],
      ['/admin/schedules/nightly/remove', {}],
    ];
    for (const [path, form] of posts) {
      const answer = await page.request.post(`${url}${path}`, {
        form: { csrf: csrf ?? '', ...form },
        headers: { origin: url },
        maxRedirects: 0,
      });
      expect(answer.status(), path).toBe(403);
      expect(await answer.text(), path).toContain('This needs the FleetScan.Admin role');
    }
    expect(JSON.stringify(await tokens.list())).toBe(before.tokens);
    expect(JSON.stringify(await webhooks.list())).toBe(before.webhooks);
    expect(JSON.stringify((await schedules.get('nightly'))?.spec)).toBe(before.schedule);
    expect((await schedules.list()).map((s) => s.spec.name)).toEqual(['nightly']);
    const refused = (await audit.list({ limit: 100 })).filter(
      (e) => e.who === 'dashboard:otto@contoso.test' && e.outcome === 'refused',
    );
    expect(refused.map((e) => e.action).sort()).toEqual(
      [
        'schedule.create',
        'schedule.pause',
        'schedule.remove',
        'schedule.resume',
        'token.create',
        'token.revoke',
        'webhook.create',
        'webhook.delete',
      ].sort(),
    );
    await page.context().close();
  });
});
