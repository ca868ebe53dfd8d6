import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { NextAttempt } from '../../src/lanes/next-attempts.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const headers = { authorization: 'Bearer test-token-0123456789' };
const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const clock = (iso: string) => `${iso.slice(11, 19)} UTC`;

let fx: DashboardFixture;
beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  await fx.close();
});

async function page(extra: {
  reserve?: number[];
  next?: Map<string, NextAttempt>;
}): Promise<{ body: string }> {
  const app = await buildDashboard(
    fx.deps({
      budgets: [
        {
          id: 'commercial:tenant-1:app-1',
          usage: () => Promise.resolve(fx.budget.usage),
          ...(extra.reserve ? { reserve: extra.reserve } : {}),
          nextAttempts: () => Promise.resolve(extra.next ?? new Map()),
        },
      ],
    }),
  );
  try {
    const res = await app.inject({ url: '/', headers });
    expect(res.statusCode).toBe(200);
    return { body: res.body };
  } finally {
    await app.close();
  }
}

describe('what waits, on the dashboard (issue 25)', () => {
  it("shows a busy device's next retry instead of an ETA that says nothing", async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'busy tail',
      total: 5,
      requested: 4,
      failed: 0,
      deferred: 1,
    });
    const at = Date.now() + 260_000;
    const body = text(
      (await page({ next: new Map([[seeded.id, { first: at, last: at, devices: 1 }]]) })).body,
    );
    const when = clock(new Date(at).toISOString());
    expect(body).toContain(`ETA busy, next retry ${when}`);
    expect(body).toContain(`Deferred (busy) 1 1 deferral, next retry ${when}`);
  });

  it('badges an urgent campaign, lists it first and says normal ones wait behind it', async () => {
    const urgent = await seedCampaign(fx.store, {
      name: 'urgent sweep',
      total: 10,
      requested: 0,
      failed: 0,
      deferred: 0,
      createdAt: Date.now() - 120_000,
    });
    await fx.store.setPriority(urgent.id, 'urgent');
    const normal = await seedCampaign(fx.store, {
      name: 'weekly sweep',
      total: 10,
      requested: 0,
      failed: 0,
      deferred: 0,
    });
    const { body } = await page({});
    // Newest first, except that an urgent campaign under way goes on top.
    expect(body.indexOf(`data-campaign="${urgent.id}"`)).toBeLessThan(
      body.indexOf(`data-campaign="${normal.id}"`),
    );
    const cards = body.split('<article').slice(1);
    expect(cards[0]).toContain('data-urgent');
    expect(cards[1]).not.toContain('data-urgent');
    expect(text(cards[1] ?? '')).toMatch(/Rate — waiting behind urgent/);
    expect(text(cards[0] ?? '')).not.toContain('waiting behind urgent');
  });

  it('shows the urgent reserve in the budget and names it where it holds a campaign', async () => {
    await seedCampaign(fx.store, {
      name: 'weekly',
      total: 10,
      requested: 0,
      failed: 0,
      deferred: 0,
    });
    fx.budget.usage = [
      {
        family: 'scan',
        windows: [
          { cap: 100, windowMs: 500, used: 0 },
          { cap: 1_500, windowMs: 30_000, used: 1_400 },
        ],
        pausedUntil: null,
      },
    ];
    const body = text((await page({ reserve: [10, 100] })).body);
    expect(body).toContain('last 100 kept for urgent campaigns: normal ones stop at 1,400');
    expect(body).toContain('last 10 kept for urgent campaigns: normal ones stop at 90');
    expect(body).toMatch(/Rate — waiting: urgent reserve/);
  });
});
