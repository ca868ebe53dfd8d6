import type { Campaign } from '../campaigns/campaign.js';
import type { TenantReport } from '../lanes/tenant-reports.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { ScheduleReader } from '../schedules/schedule-reader.js';
import type { ScheduleView } from '../schedules/schedule-view.js';
import type { Clock } from '../shared/clock.js';
import {
  readBudgets,
  readNextAttemptsOf,
  type BudgetSnapshot,
  type BudgetSource,
  type BudgetUsage,
} from '../lanes/budget-usage.js';
import { estimateCampaignEtas } from '../lanes/campaign-etas.js';
import type { RateTracker } from './rate-tracker.js';
import type { ArchivedCampaign } from '../retention/archive-index.js';
import type { MemoryHeadroom } from '../retention/memory-headroom.js';
import { lacksWorkers, type LiveWorker } from '../ops/worker-presence.js';

/** One campaign as the pages show it: the stored record plus what is derived from it. */
export interface CampaignView {
  campaign: Campaign;
  /** Devices with an outcome: requested + failed + cancelled. */
  settled: number;
  /** Devices still needing a call: queued + deferred. */
  remaining: number;
  /** 0..100, settled share of all devices. */
  percent: number;
  /** Devices settled per minute over the last minute; null until two samples exist. */
  ratePerMin: number | null;
  /** Earliest finish from the remaining scan budget, ms from now; null when unknown or not running. */
  etaMs: number | null;
  /** Proof of completion (`fleetscan verify`): devices proved complete of those verified. */
  proved?: { completed: number; of: number } | null;
  /** Devices wait and no live worker serves the campaign's tenant: "no workers", no ETA. */
  noWorkers?: boolean;
  /** What the kill switch did to the campaign's actions; null when it was never pressed. */
  killSwitch?: KillSwitchResult | null;
  /** When the next of its busy (or backing-off) devices is tried again, epoch ms; null: none. */
  nextAttemptAt?: number | null;
  /** How many of its devices wait for such a time. */
  devicesDue?: number;
  /**
   * Why a normal or background campaign gets no call now: `urgent` campaigns of its tenant go
   * first, or a window is full up to the `reserve` kept for them. Null when nothing holds it.
   */
  waitingBehind?: 'urgent' | 'reserve' | null;
}

/** Counts of the kill switch's runs (`cancel --actions`), from the lifecycle record. */
export interface KillSwitchResult {
  cancelled: number;
  alreadyFinal: number;
  refused: number;
}

export interface Overview {
  at: number;
  campaigns: CampaignView[];
  /** Campaigns beyond the display limit (older ones), not shown. */
  hidden: number;
  budgets: BudgetSnapshot[];
  /** Redis memory against its limit (retention); absent without retention deps or when unreadable. */
  memory?: MemoryHeadroom | null;
  /** Archived campaigns, listed apart from the live ones. */
  archived?: ArchivedCampaign[];
  /** Present when the dashboard reads schedules. */
  schedules?: ScheduleView[];
  /** Live worker processes; absent when the dashboard does not read heartbeats. */
  workers?: LiveWorker[];
  /** Every configured tenant (`readTenantReports`); absent when the dashboard does not read them. */
  tenants?: TenantReport[];
}

export interface OverviewDeps {
  store: CampaignStore;
  budgets: readonly BudgetSource[];
  clock: Clock;
  rates: RateTracker;
  /** How many of the newest campaigns the overview shows (the page must stay readable). */
  limit?: number;
  /** Verify results per campaign (src/tracking lifecycle record); absent: not shown. */
  proof?: ((campaignId: string) => Promise<{ completed: number; of: number } | null>) | undefined;
  retention?: OverviewRetention | undefined;
  schedules?: ScheduleReader | undefined;
  /** Live worker processes (`listWorkers`); absent: no workers panel and no "no workers". */
  workers?: (() => Promise<LiveWorker[]>) | undefined;
  /** Kill-switch results per campaign (src/tracking lifecycle record); absent: not shown. */
  killSwitch?: ((campaignId: string) => Promise<KillSwitchResult | null>) | undefined;
  /** The tenants panel (`readTenantReports`, as `fleetscan tenants`); absent: no panel. */
  tenants?: (() => Promise<TenantReport[]>) | undefined;
}

/** Memory headroom and archived campaigns (`src/retention`). */
export interface OverviewRetention {
  memory(): Promise<MemoryHeadroom>;
  archived(): Promise<ArchivedCampaign[]>;
}

export function settledOf(campaign: Campaign): number {
  const { requested, failed, cancelled } = campaign.counts;
  return requested + failed + cancelled;
}

/**
 * The scan family of the budget a campaign's tenant spends: the budget naming that tenant, or the
 * only budget when budgets name no tenants (a single-identity dashboard).
 */
function scanBudgetOf(
  budgets: readonly BudgetSnapshot[],
  tenant: string,
): BudgetSnapshot | undefined {
  const named = budgets.find((budget) => budget.tenants?.includes(tenant));
  if (named) return named;
  return budgets.length === 1 && budgets[0]?.tenants === undefined ? budgets[0] : undefined;
}

function scanFamily(budget: BudgetSnapshot | undefined): BudgetUsage | undefined {
  return budget?.families.find((family) => family.family === 'scan');
}

/**
 * ETA per campaign, drained through its own budget: campaigns of tenants sharing one API identity
 * queue together, campaigns of another identity do not slow them down.
 */
function etasByBudget(
  all: readonly Campaign[],
  budgets: readonly BudgetSnapshot[],
  next: ReadonlyMap<string, { last: number | null }>,
  at: number,
): Map<string, number | null> {
  const etas = new Map<string, number | null>();
  const groups = new Map<BudgetSnapshot | undefined, Campaign[]>();
  for (const campaign of all) {
    const budget = scanBudgetOf(budgets, campaign.tenant);
    groups.set(budget, [...(groups.get(budget) ?? []), campaign]);
  }
  for (const [budget, campaigns] of groups) {
    const estimated = estimateCampaignEtas(
      campaigns.map((campaign) => ({
        id: campaign.id,
        createdAt: campaign.createdAt,
        remaining: campaign.counts.queued + campaign.counts.deferred,
        running: campaign.state === 'running',
        tenant: campaign.tenant,
        priority: campaign.priority,
        lastDueAt: next.get(campaign.id)?.last ?? null,
      })),
      scanFamily(budget),
      at,
    );
    for (const [id, eta] of estimated) etas.set(id, eta);
  }
  return etas;
}

/** Urgent campaigns still under way first, then newest first: the ones that go first on top. */
function urgentFirst(campaigns: readonly Campaign[]): Campaign[] {
  const active = (c: Campaign) =>
    c.priority === 'urgent' && (c.state === 'running' || c.state === 'paused');
  return [...campaigns.filter(active), ...campaigns.filter((c) => !active(c))];
}

/**
 * What holds a normal or background campaign that still has devices to call: a running urgent
 * campaign of its tenant with devices left (its class is served first), or a scan window used up
 * to cap − reserve (the last calls are kept for urgent campaigns).
 */
export function waitingBehindUrgent(
  campaign: Campaign,
  all: readonly Campaign[],
  budget: BudgetUsage | undefined,
): 'urgent' | 'reserve' | null {
  if (campaign.priority === 'urgent' || campaign.state !== 'running') return null;
  if (campaign.counts.queued === 0) return null;
  const urgentAhead = all.some(
    (c) =>
      c.priority === 'urgent' &&
      c.state === 'running' &&
      c.tenant === campaign.tenant &&
      c.counts.queued > 0,
  );
  if (urgentAhead) return 'urgent';
  const heldByReserve = budget?.windows.some(
    (w) => (w.reserve ?? 0) > 0 && w.used >= w.cap - (w.reserve ?? 0) && w.used < w.cap,
  );
  return heldByReserve === true ? 'reserve' : null;
}

/** Reads campaigns and budgets once and derives progress, rate and ETA for each campaign. */
export async function readOverview(deps: OverviewDeps): Promise<Overview> {
  const [all, budgets, next] = await Promise.all([
    deps.store.listCampaigns(),
    readBudgets(deps.budgets),
    readNextAttemptsOf(deps.budgets),
  ]);
  const at = deps.clock.now();
  const shown = urgentFirst(all).slice(0, deps.limit ?? 20);
  deps.rates.retain(new Set(shown.map((campaign) => campaign.id)));
  const etas = etasByBudget(all, budgets, next, at);
  const proof = deps.proof;
  const proofs = proof ? await Promise.all(shown.map((campaign) => proof(campaign.id))) : [];
  const killSwitch = deps.killSwitch;
  const kills = killSwitch
    ? await Promise.all(shown.map((campaign) => killSwitch(campaign.id)))
    : [];
  const workers = deps.workers ? await deps.workers() : undefined;
  const campaigns = shown.map((campaign, i) => {
    const settled = settledOf(campaign);
    const rate = deps.rates.observe(campaign.id, settled, at);
    const noWorkers = workers ? lacksWorkers(campaign, workers) : false;
    const remaining = campaign.counts.queued + campaign.counts.deferred;
    const due = remaining > 0 ? next.get(campaign.id) : undefined;
    return {
      campaign,
      settled,
      remaining: campaign.counts.queued + campaign.counts.deferred,
      percent: campaign.total > 0 ? (settled / campaign.total) * 100 : 0,
      ratePerMin: campaign.state === 'running' ? rate : null,
      etaMs: noWorkers ? null : (etas.get(campaign.id) ?? null),
      proved: proofs[i] ?? null,
      killSwitch: kills[i] ?? null,
      noWorkers,
      nextAttemptAt: due?.first ?? null,
      devicesDue: due?.devices ?? 0,
      waitingBehind: waitingBehindUrgent(
        campaign,
        all,
        scanFamily(scanBudgetOf(budgets, campaign.tenant)),
      ),
    };
  });
  const retention = deps.retention
    ? {
        memory: await deps.retention.memory().catch(() => null),
        archived: await deps.retention.archived(),
      }
    : {};
  const schedules = deps.schedules ? await deps.schedules.views() : undefined;
  const tenants = deps.tenants ? await deps.tenants() : undefined;
  return {
    at,
    campaigns,
    hidden: all.length - shown.length,
    budgets,
    ...retention,
    ...(schedules ? { schedules } : {}),
    ...(workers ? { workers } : {}),
    ...(tenants ? { tenants } : {}),
  };
}

/** The overview restricted to one campaign, or null when it does not exist. */
export async function readCampaignView(
  deps: OverviewDeps,
  campaignId: string,
): Promise<{ view: CampaignView; at: number; workers?: LiveWorker[] } | null> {
  const overview = await readOverview({
    ...deps,
    tenants: undefined,
    limit: Number.MAX_SAFE_INTEGER,
  });
  const view = overview.campaigns.find((item) => item.campaign.id === campaignId);
  if (!view) return null;
  return { view, at: overview.at, ...(overview.workers ? { workers: overview.workers } : {}) };
}
