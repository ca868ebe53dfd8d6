import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { estimateCompletion } from '../../src/campaigns/eta.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { formatSpan } from '../../src/dashboard/pages/format.js';
import {
  dashboardFixture,
  machineId,
  seedCampaign,
  type DashboardFixture,
} from './dashboard-fixture.js';

const headers = { authorization: 'Bearer test-token-0123456789' };
let fx: DashboardFixture;
let app: FastifyInstance;

beforeEach(async () => {
  fx = dashboardFixture();
  app = await buildDashboard(fx.deps());
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('dashboard pages', () => {
  it('shows every campaign with counts, progress, failures by reason and the budget', async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'Weekly <sweep>',
      total: 1_000,
      requested: 40,
      failed: 6,
      deferred: 4,
    });
    const now = Date.now();
    const clocked = await buildDashboard(
      fx.deps({ clock: { now: () => now, sleep: () => Promise.resolve() } }),
    );
    fx.budget.usage = [
      {
        family: 'scan',
        windows: [{ cap: 100, windowMs: 60_000, used: 57 }],
        pausedUntil: now + 30_000,
      },
    ];
    const res = await clocked.inject({ url: '/', headers });
    await clocked.close();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const page = text(res.body);
    expect(res.body).toContain('Weekly &lt;sweep&gt;'); // operator text is escaped, never markup
    expect(res.body).not.toContain('<b>macOS 10</b>');
    expect(res.body).toContain(`href="/campaigns/${seeded.id}"`);
    expect(page).toContain('4.6%'); // 46 of 1,000 settled
    expect(page).toContain('46 of 1,000 devices settled');
    expect(page).toMatch(/MachineActions 40/);
    expect(page).toMatch(/Queued 950/);
    expect(page).toMatch(/Deferred \(busy\) 4 4 deferrals/);
    expect(page).toMatch(/Failed 6/);
    expect(page).toMatch(/Joined existing 1/);
    expect(page).toMatch(/ResourceNotFound 3 3 Machine not found/);
    expect(page).toMatch(/57 \/ 100/);
    expect(page).toMatch(/paused after 429 until/);
    // The budget's bound on the 954 calls left, after the 30 s pause (shared with `status`).
    const eta = estimateCompletion({
      remaining: 954,
      windows: [{ cap: 100, windowMs: 60_000 }],
      usedNow: [57],
      pausedForMs: 30_000,
    });
    expect(eta).toBeGreaterThan(9 * 60_000);
    expect(page).toContain(`ETA ${formatSpan(eta)}`);
  });

  it('refreshes the live fragment with new counts', async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'live',
      total: 10,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    expect(text((await app.inject({ url: '/fragments/overview', headers })).body)).toContain(
      '1 of 10 devices settled',
    );
    await fx.store.markRequested(
      seeded.id,
      seeded.ids[5]!,
      { id: 'a-5', status: 'Pending', creationDateTimeUtc: new Date().toISOString() },
      { joinedExisting: false, at: Date.now() },
    );
    const fragment = await app.inject({ url: '/fragments/overview', headers });
    expect(fragment.body).not.toContain('<html');
    expect(text(fragment.body)).toContain('2 of 10 devices settled');
  });

  it('pages through devices, filters by state and searches by id', async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'table',
      total: 180,
      requested: 20,
      failed: 3,
      deferred: 2,
    });
    const first = await app.inject({ url: `/campaigns/${seeded.id}`, headers });
    expect(first.statusCode).toBe(200);
    const rows = (body: string) =>
      [...body.matchAll(/<td><code>([0-9a-f]{40})<\/code><\/td>/g)].map((m) => m[1]!);
    const firstRows = rows(first.body);
    expect(firstRows.length).toBeGreaterThanOrEqual(50);
    const next = /href="([^"]*cursor=\d+[^"]*)"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const seen = new Set(firstRows);
    let url: string | undefined = next;
    while (url) {
      const page = await app.inject({ url, headers });
      for (const id of rows(page.body)) seen.add(id);
      url = /href="([^"]*cursor=\d+[^"]*)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
    }
    expect(seen.size).toBe(180);

    const failed = await app.inject({ url: `/campaigns/${seeded.id}?state=failed`, headers });
    expect(rows(failed.body)).toHaveLength(3);
    expect(failed.body).toContain('OsPlatformNotSupported: &lt;b&gt;macOS 10&lt;/b&gt;');

    const search = await app.inject({
      url: `/campaigns/${seeded.id}?search=${machineId(7)}`,
      headers,
    });
    expect(rows(search.body)).toEqual([machineId(7)]);
    const requested = await app.inject({
      url: `/campaigns/${seeded.id}?search=${machineId(7)}&state=queued`,
      headers,
    });
    expect(rows(requested.body)).toEqual([]);
    // Anything but hex is ignored rather than passed to Redis as a pattern.
    const glob = await app.inject({ url: `/campaigns/${seeded.id}?search=*&state=bogus`, headers });
    expect(rows(glob.body).length).toBeGreaterThanOrEqual(50);
  });

  it("streams the export in the export command's formats", async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'export',
      total: 30,
      requested: 3,
      failed: 2,
      deferred: 1,
    });
    const csv = await app.inject({ url: `/campaigns/${seeded.id}/export.csv`, headers });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="${seeded.id}.csv"`);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,' +
        'actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType,hostname,nextAttemptAt,' +
        'threats,threatNames,unremediated,threatFiles,alerts,alertTitles,tenant,priority',
    );
    expect(lines).toHaveLength(31);
    const json = await app.inject({ url: `/campaigns/${seeded.id}/export.json`, headers });
    const rows = json.json<{ machineId: string; state: string }[]>();
    expect(rows).toHaveLength(30);
    expect(rows.filter((r) => r.state === 'failed')).toHaveLength(2);
    expect(
      (await app.inject({ url: `/campaigns/${seeded.id}/export.xml`, headers })).statusCode,
    ).toBe(404);
    expect((await app.inject({ url: `/campaigns/${seeded.id}/export.csv` })).statusCode).toBe(401);
  });

  it('answers 404 for an unknown campaign', async () => {
    expect((await app.inject({ url: '/campaigns/c-zzzzzzzzzzzz', headers })).statusCode).toBe(404);
    expect(
      (await app.inject({ url: '/fragments/campaigns/c-zzzzzzzzzzzz', headers })).statusCode,
    ).toBe(404);
  });
});

describe('readiness', () => {
  it('is ready on a noeviction Redis and reports the policy', async () => {
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ready',
      redis: { reachable: true, evictionPolicy: 'noeviction' },
    });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('is not ready when Redis is unreachable', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const offline = await buildDashboard(fx.deps({ redis: dead }));
    const res = await offline.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not ready', redis: { reachable: false } });
    await offline.close();
    dead.disconnect();
  });
});
