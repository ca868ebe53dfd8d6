import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore } from '../../src/api/tokens/token-store.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { AdminDeps } from '../../src/dashboard/routes/admin.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';
import { createDestinationGuard } from '../../src/webhooks/webhook-destination.js';
import { createWebhookStore } from '../../src/webhooks/webhook-store.js';
import { dashboardFixture, type DashboardFixture } from './dashboard-fixture.js';

const bearer = { authorization: 'Bearer test-token-0123456789' };
const FORM = { ...bearer, 'content-type': 'application/x-www-form-urlencoded' };

let fx: DashboardFixture;
let app: FastifyInstance;
let admin: AdminDeps;

beforeEach(() => {
  fx = dashboardFixture();
  admin = {
    tokens: createTokenStore(fx.redis, fx.prefix),
    webhooks: createWebhookStore(fx.redis, fx.prefix),
    guard: createDestinationGuard({ allowHttp: false, allowNetworks: [] }, () =>
      Promise.resolve([{ address: '52.96.1.2', family: 4 }]),
    ),
    schedules: createScheduleStore(fx.redis, fx.prefix),
    scheduleNow: () => Date.now(),
    baseDir: '/tmp',
  };
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

async function csrfOf(): Promise<string> {
  const page = await app.inject({ url: '/admin/tokens', headers: bearer });
  return /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
}

describe('admin pages with the shared credential', () => {
  it('do not exist on a read-only dashboard, and no Admin link shows', async () => {
    app = await buildDashboard(fx.deps({ allowActions: false, admin }));
    for (const url of ['/admin/tokens', '/admin/webhooks', '/admin/schedules']) {
      expect((await app.inject({ url, headers: bearer })).statusCode, url).toBe(404);
    }
    expect((await app.inject({ url: '/', headers: bearer })).body).not.toContain('nav-admin');
  });

  it('with --allow-actions: the Admin link, the action token on every write, field-naming refusals', async () => {
    const audit = createAuditLog(fx.redis, fx.prefix);
    app = await buildDashboard(fx.deps({ allowActions: true, admin, audit }));
    expect((await app.inject({ url: '/', headers: bearer })).body).toContain(
      '<a href="/admin/tokens" class="nav-admin">Admin</a>',
    );
    const csrf = await csrfOf();
    expect(csrf).not.toBe('');

    const unsigned = await app.inject({
      method: 'POST',
      url: '/admin/tokens',
      headers: FORM,
      payload: 'name=no-token',
    });
    expect(unsigned.statusCode).toBe(403);
    expect(await admin.tokens.list()).toEqual([]);

    const badSchedule = await app.inject({
      method: 'POST',
      url: '/admin/schedules',
      headers: { ...FORM, accept: 'text/html' },
      payload: new URLSearchParams({
        csrf,
        yaml: 'name: n\ncron: "0 2 * * *"\ncomment: c',
      }).toString(),
    });
    expect(badSchedule.statusCode).toBe(400);
    expect(badSchedule.body).toContain('yaml: schedule n: name the devices with exactly one of');
    expect(badSchedule.body).toContain('href="/admin/schedules"');
    expect(await admin.schedules.list()).toEqual([]);

    const added = await app.inject({
      method: 'POST',
      url: '/admin/schedules',
      headers: FORM,
      payload: new URLSearchParams({
        csrf,
        yaml: 'name: weekly\ncron: "0 22 * * 6"\nall: true\ncomment: Weekly',
      }).toString(),
    });
    expect(added.statusCode).toBe(303);
    expect((await admin.schedules.get('weekly'))?.spec.targets.all).toBe(true);
    const again = await app.inject({
      method: 'POST',
      url: '/admin/schedules',
      headers: FORM,
      payload: new URLSearchParams({
        csrf,
        yaml: 'name: weekly\ncron: "0 1 * * *"\nall: true\ncomment: Other',
      }).toString(),
    });
    expect(again.statusCode).toBe(400);
    expect(JSON.parse(again.body)).toEqual({
      error: expect.stringContaining('name: a schedule named "weekly" exists') as unknown,
    });
    expect((await admin.schedules.get('weekly'))?.spec.cron).toBe('0 22 * * 6');

    const removed = await app.inject({
      method: 'POST',
      url: '/admin/schedules/weekly/remove',
      headers: FORM,
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(removed.statusCode).toBe(303);
    expect(await admin.schedules.list()).toEqual([]);
    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/tokens/0123456789/revoke',
      headers: FORM,
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(unknown.statusCode).toBe(404);

    const entries = await audit.list({ limit: 20 });
    expect(entries.map((e) => [e.action, e.outcome, e.who])).toEqual(
      expect.arrayContaining([
        ['token.create', 'refused', 'dashboard:token'],
        ['schedule.create', 'refused', 'dashboard:token'],
        ['schedule.create', 'ok', 'dashboard:token'],
        ['schedule.remove', 'ok', 'dashboard:token'],
        ['token.revoke', 'refused', 'dashboard:token'],
      ]),
    );
  });
});
