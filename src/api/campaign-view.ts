import type { Campaign } from '../campaigns/campaign.js';
import type { BudgetUsage } from '../lanes/budget-usage.js';
import { estimateCampaignEtas } from '../lanes/campaign-etas.js';
import type { NextAttempt } from '../lanes/next-attempts.js';
import type { TenantRegistry } from '../tenants/tenant-registry.js';
import type { CampaignOut } from './campaign-schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface BudgetView {
  id: string;
  scan: BudgetUsage | undefined;
}

/**
 * Campaigns as the API shows them: the record, progress, the budget its tenant spends and the ETA
 * the dashboard shows (`estimateCampaignEtas`: every older running campaign on the same budget
 * is ahead of it in the queue). `all` are every campaign in the store, for that ordering.
 */
export async function describeCampaigns(
  shown: readonly Campaign[],
  all: readonly Campaign[],
  deps: {
    tenants: Pick<TenantRegistry, 'get'>;
    now: number;
    /** Each campaign's due devices in its lane (`readNextAttempts`); absent: not shown. */
    nextAttempts?: ReadonlyMap<string, NextAttempt>;
  },
): Promise<CampaignOut[]> {
  const budgets = new Map<string, BudgetView | null>();
  const budgetOf = async (tenant: string): Promise<BudgetView | null> => {
    if (budgets.has(tenant)) return budgets.get(tenant) ?? null;
    let view: BudgetView | null = null;
    try {
      const runtime = deps.tenants.get(tenant);
      const usage = await runtime.limiter.usage().catch(() => []);
      view = { id: runtime.budgetId, scan: usage.find((u) => u.family === 'scan') };
    } catch {
      view = null; // a tenant no longer configured: its campaigns show without a budget
    }
    budgets.set(tenant, view);
    return view;
  };

  const etasByBudget = new Map<string, Map<string, number | null>>();
  for (const campaign of all) await budgetOf(campaign.tenant);
  for (const view of budgets.values()) {
    if (!view || etasByBudget.has(view.id)) continue;
    const sharing = all.filter((c) => budgets.get(c.tenant)?.id === view.id);
    etasByBudget.set(
      view.id,
      estimateCampaignEtas(
        sharing.map((c) => ({
          id: c.id,
          createdAt: c.createdAt,
          remaining: c.counts.queued + c.counts.deferred,
          running: c.state === 'running',
          lastDueAt: deps.nextAttempts?.get(c.id)?.last ?? null,
        })),
        view.scan,
        deps.now,
      ),
    );
  }

  return Promise.all(
    shown.map(async (c) => {
      const budget = await budgetOf(c.tenant);
      const settled = c.counts.requested + c.counts.failed + c.counts.cancelled;
      const remaining = c.counts.queued + c.counts.deferred;
      const eta = budget ? etasByBudget.get(budget.id)?.get(c.id) : undefined;
      const next = remaining > 0 ? deps.nextAttempts?.get(c.id) : undefined;
      return {
        id: c.id,
        name: c.name,
        state: c.state,
        tenant: c.tenant,
        priority: c.priority,
        scanType: c.scanType,
        comment: c.comment,
        createdAt: new Date(c.createdAt).toISOString(),
        createdBy: c.createdBy,
        source: c.source,
        finishedAt: iso(c.finishedAt),
        window: c.window,
        schedule: c.schedule,
        intakeOpen: c.intakeOpen === true,
        total: c.total,
        counts: { ...c.counts },
        joinedExisting: c.joinedExisting,
        deferrals: c.deferrals,
        failuresByReason: { ...c.failuresByReason },
        progress: {
          settled,
          remaining,
          percent: c.total > 0 ? Math.round((settled / c.total) * 1000) / 10 : 0,
        },
        etaSeconds: eta === undefined || eta === null ? null : Math.ceil(eta / 1000),
        nextAttemptAt: next ? iso(next.first) : null,
        budget: budget?.scan
          ? {
              id: budget.id,
              windows: budget.scan.windows.map((w) => ({
                cap: w.cap,
                windowMs: w.windowMs,
                used: w.used,
              })),
              pausedUntil: iso(budget.scan.pausedUntil),
            }
          : null,
      };
    }),
  );
}
