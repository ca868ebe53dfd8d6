import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const TOKEN = 'test-token-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };

let fx: DashboardFixture;
let app: FastifyInstance;
beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

describe('dashboard lifecycle', () => {
  it('offers the kill switch behind a confirmation with --allow-actions and shows the proof', async () => {
    const killed: string[] = [];
    app = await buildDashboard(
      fx.deps({
        allowActions: true,
        cancelActions: (id: string) => {
          killed.push(id);
          return Promise.resolve();
        },
        proof: () => Promise.resolve({ completed: 7, of: 9 }),
        audit: createAuditLog(fx.redis, fx.prefix),
      }),
    );
    const seeded = await seedCampaign(fx.store, {
      name: 'kill',
      total: 3,
      requested: 2,
      failed: 0,
      deferred: 0,
    });
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(page.body).toMatch(
      /action="\/campaigns\/[^"]+\/cancel-actions"[\s\S]*?Type <b>kill<\/b> to press the kill switch/,
    );
    expect(page.body).toMatch(/data-stat="proved"[\s\S]*7 of 9/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const post = (token: string) =>
      app.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/cancel-actions`,
        headers: {
          ...bearer,
          'content-type': 'application/x-www-form-urlencoded',
          host: 'dash.example:3000',
          origin: 'http://dash.example:3000',
        },
        payload: `csrf=${encodeURIComponent(token)}&confirmName=kill`,
      });
    expect((await post('wrong')).statusCode).toBe(403);
    expect(killed).toEqual([]);
    expect((await post(csrf)).statusCode).toBe(303);
    expect(killed).toEqual([seeded.id]);

    // Both tries are audited: who (the dashboard's credential), from where, and how it ended.
    const entries = (await createAuditLog(fx.redis, fx.prefix).list()).reverse();
    expect(entries.map((e) => [e.action, e.target, e.who, e.source, e.outcome, e.detail])).toEqual([
      [
        'campaign.cancel',
        seeded.id,
        'dashboard:token',
        'dashboard',
        'refused',
        'missing or wrong action token',
      ],
      ['campaign.cancel', seeded.id, 'dashboard:token', 'dashboard', 'ok', ''],
    ]);
    const audit = await app.inject({ url: '/audit', headers: bearer });
    expect(audit.statusCode).toBe(200);
    expect(audit.body).toContain('(2 shown)');
    expect(audit.body).toMatch(
      /<td>dashboard:token<\/td>\s*<td>dashboard<\/td>\s*<td>campaign\.cancel<\/td>/,
    );
  });

  it('has no kill switch route when none is wired', async () => {
    app = await buildDashboard(
      fx.deps({
        allowActions: true,
      }),
    );
    const seeded = await seedCampaign(fx.store, {
      name: 'none',
      total: 1,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const res = await app.inject({
      method: 'POST',
      url: `/campaigns/${seeded.id}/cancel-actions`,
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'csrf=x',
    });
    expect(res.statusCode).toBe(404);
  });
});
