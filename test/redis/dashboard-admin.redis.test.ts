import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenStore } from '../../src/api/tokens/token-store.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { AdminDeps, ScheduleRun } from '../../src/dashboard/routes/admin.js';
import { buildScheduleSpec } from '../../src/schedules/schedule-spec.js';
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

  it('Run now: the trigger from the page, its refusal and a run that failed, each audited', async () => {
    const audit = createAuditLog(fx.redis, fx.prefix);
    const calls: [string, string][] = [];
    const answers: ScheduleRun[] = [
      {
        ran: true,
        entry: {
          planned: 1,
          actual: 1,
          outcome: 'started',
          reason: null,
          campaignId: 'c-000000000042',
          counts: { queued: 3, invalid: 0, skipped: {} },
          manual: true,
        },
      },
      { ran: false, message: "Schedule weekly's last run c-000000000042 still has queued devices" },
      {
        ran: true,
        entry: {
          planned: 2,
          actual: 2,
          outcome: 'failed-to-resolve',
          reason: 'tag Servers: Defender answered 403',
          campaignId: null,
          counts: null,
          manual: true,
        },
      },
    ];
    app = await buildDashboard(
      fx.deps({
        allowActions: true,
        audit,
        admin: {
          ...admin,
          runSchedule: (name, createdBy) => {
            calls.push([name, createdBy]);
            return Promise.resolve(answers[calls.length - 1] ?? { ran: false, message: 'no more' });
          },
        },
      }),
    );
    await admin.schedules.put(
      buildScheduleSpec({ name: 'weekly', cron: '0 22 * * 6', all: true, comment: 'W' }, 't', '/'),
      Date.now(),
    );
    const page = await app.inject({ url: '/admin/schedules', headers: bearer });
    expect(page.body).toContain('action="/admin/schedules/weekly/run"');
    const csrf = await csrfOf();
    const run = () =>
      app.inject({
        method: 'POST',
        url: '/admin/schedules/weekly/run',
        headers: FORM,
        payload: `csrf=${encodeURIComponent(csrf)}`,
      });
    const started = await run();
    expect(started.statusCode).toBe(303);
    expect(started.headers.location).toBe('/campaigns/c-000000000042');
    const refused = await run();
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('still has queued devices');
    const failed = await run();
    expect(failed.statusCode).toBe(502);
    expect(failed.body).toContain('Run now: failed-to-resolve: tag Servers: Defender answered 403');
    expect(calls).toEqual([
      ['weekly', 'dashboard:token'],
      ['weekly', 'dashboard:token'],
      ['weekly', 'dashboard:token'],
    ]);
    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/schedules/nope/run',
      headers: FORM,
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(unknown.statusCode).toBe(404);
    expect(calls).toHaveLength(3);
    const triggers = (await audit.list({ limit: 20 }))
      .filter((e) => e.action === 'schedule.trigger')
      .map((e) => [e.target, e.outcome, e.detail]);
    expect(triggers).toEqual(
      expect.arrayContaining([
        ['weekly', 'ok', 'started c-000000000042'],
        ['weekly', 'refused', expect.stringContaining('still has queued devices') as unknown],
        ['weekly', 'failed', 'failed-to-resolve: tag Servers: Defender answered 403'],
        ['nope', 'refused', 'name: no schedule "nope"'],
      ]),
    );
  });
});
