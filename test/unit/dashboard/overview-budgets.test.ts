import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import type { CampaignStore } from '../../../src/campaigns/campaign-store.js';
import { readOverview } from '../../../src/dashboard/overview.js';
import { createRateTracker } from '../../../src/dashboard/rate-tracker.js';
import type { BudgetSource, BudgetUsage } from '../../../src/lanes/budget-usage.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

function campaign(id: string, tenant: string, queued: number, createdAt: number): Campaign {
  return {
    id,
    name: id,
    scanType: 'Quick',
    comment: '',
    createdAt,
    createdBy: 'ops@example.org',
    source: 'file:devices.csv',
    tenant,
    priority: 'normal',
    window: null,
    schedule: null,
    state: 'running',
    finishedAt: null,
    total: queued,
    counts: { queued, deferred: 0, requested: 0, failed: 0, cancelled: 0 },
    joinedExisting: 0,
    failuresByReason: {},
    deferrals: 0,
  };
}

/** A scan budget of 100/min and 1,500/h with `used` calls in each window, nothing reserved. */
function scanUsage(used: number): BudgetUsage[] {
  return [
    {
      family: 'scan',
      pausedUntil: null,
      windows: [
        { cap: 100, windowMs: 60_000, used, configuredCap: 100 },
        { cap: 1_500, windowMs: 3_600_000, used, configuredCap: 1_500 },
      ],
    },
  ];
}

function budget(id: string, tenants: string[], used: number): BudgetSource {
  return { id, tenants, usage: () => Promise.resolve(scanUsage(used)) };
}

async function etasOf(campaigns: Campaign[], budgets: BudgetSource[]) {
  const store = { listCampaigns: () => Promise.resolve(campaigns) };
  const overview = await readOverview({
    store: store as unknown as CampaignStore,
    budgets,
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
    rates: createRateTracker(),
  });
  return new Map(overview.campaigns.map((view) => [view.campaign.id, view.etaMs]));
}

describe('the overview ETA of campaigns on several budgets', () => {
  const older = campaign('c-contoso', 'contoso', 3_000, NOW - 120_000);
  const newer = campaign('c-fabrikam', 'fabrikam', 50, NOW - 60_000);

  it('drains each campaign through the budget of its own tenant', async () => {
    const etas = await etasOf(
      [older, newer],
      [budget('budget-contoso', ['contoso'], 100), budget('budget-fabrikam', ['fabrikam'], 0)],
    );
    // fabrikam's own budget is empty: its 50 devices go at once, not after contoso's 3,000.
    expect(etas.get('c-fabrikam')).toBe(0);
    // contoso's 3,000 need two hour windows of 1,500 on a budget whose minute is full.
    expect(etas.get('c-contoso')).toBeGreaterThan(3_600_000);
  });

  it('queues campaigns of tenants sharing one API identity together', async () => {
    const etas = await etasOf(
      [older, newer],
      [budget('budget-shared', ['contoso', 'fabrikam'], 100)],
    );
    // Same budget, whose minute contoso filled: fabrikam's devices wait for that minute to pass
    // and then take turns with contoso's (one class), so they end after a while, not at once.
    expect(etas.get('c-fabrikam')).toBeGreaterThan(0);
    expect(etas.get('c-fabrikam')).toBeLessThan(etas.get('c-contoso') ?? 0);
  });

  it('gives the one budget of a single-identity dashboard to every campaign', async () => {
    const only: BudgetSource = { id: 'only', usage: () => Promise.resolve(scanUsage(0)) };
    const etas = await etasOf([newer], [only]);
    expect(etas.get('c-fabrikam')).toBe(0);
  });
});
