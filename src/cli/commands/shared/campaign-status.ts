import type { Campaign } from '../../../campaigns/campaign.js';
import type { CampaignStore } from '../../../campaigns/campaign-store.js';
import { estimateCompletion, etaAfterRetries, fullWindowWait } from '../../../campaigns/eta.js';
import type { BudgetUsage, ScanLimiter } from '../../../limiter/scan-limiter.js';
import { createLifecycleStore, type CampaignLifecycle } from '../../../tracking/lifecycle-store.js';
import { blockedReport, type BlockedReport } from '../../../lanes/blocked-tenants.js';
import type { BudgetBreaker } from '../../../lanes/budget-breaker.js';
import type { NextAttempt } from '../../../lanes/next-attempts.js';
import { slotsAhead } from '../../../lanes/slots-ahead.js';
import type { Redis } from '../../../shared/redis.js';
import { lacksWorkers, workersOf, type LiveWorker } from '../../../ops/worker-presence.js';
import { redisTimeMs } from '../../../shared/redis-time.js';

export interface BudgetReport {
  id: string;
  family: 'scan';
  /**
   * `cap` is the effective cap; `configuredCap` the configured one (adaptive budget on);
   * `reserve`: calls kept free for urgent campaigns (`limits.reserve`).
   */
  windows: {
    cap: number;
    windowMs: number;
    used: number;
    configuredCap?: number;
    reserve?: number;
  }[];
  /** Epoch ms (Redis time) until which calls wait after a 429; null when not paused. */
  pausedUntil: number | null;
  /** Why the adaptive budget last lowered a cap, and when (epoch ms); absent when it is off. */
  lastDecrease?: { reason: string; at: number } | null;
  /** The tenant-wide fault breaker: null while calls may go (absent where it was not read). */
  blocked?: BlockedReport | null;
}

export interface EtaReport {
  /** Devices still to call for: queued + deferred. */
  remaining: number;
  /**
   * Calls of the same budget that go to other campaigns first: higher classes, and the turns
   * of the campaigns of its own class (`slotsAhead`).
   */
  aheadInQueue: number;
  /**
   * Earliest end the budget allows, from now (ms); see `estimateCompletion`. Never before the
   * last busy device is due (`etaAfterRetries`).
   */
  ms: number;
  at: string;
  /**
   * While a full window holds every call back: which one and until when (from its slot times);
   * `reserve` when it is full only for this campaign's class, its last calls kept for urgent ones.
   */
  waitingFor: { windowMs: number; until: string; cap: number; reserve?: number } | null;
}

export interface CampaignStatus {
  campaign: Campaign;
  /** Devices with a MachineAction id recorded (state `requested`). */
  actionsRecorded: number;
  remaining: number;
  /** Nothing queued or deferred and the intake closed, or finished / cancelled. */
  done: boolean;
  budget: BudgetReport;
  /** null when the campaign does not move (paused, finished, cancelled, or no worker runs). */
  eta: EtaReport | null;
  /** Live worker processes serving the campaign's tenant (heartbeats, `src/ops/worker-presence`). */
  workers: LiveWorker[];
  /** Devices wait and no live worker serves the campaign: nothing moves, so no ETA. */
  noWorkers: boolean;
  /** Tracking and proof of completion (src/tracking, `fleetscan verify`), when read. */
  lifecycle?: CampaignLifecycle;
  /**
   * When the next of its waiting devices (busy, or backing off) is tried again (ISO), from its
   * budget lane; null when none waits for a time or the lane was not read.
   */
  nextAttemptAt: string | null;
  /** How many devices wait for such a time (0 when not read). */
  devicesDue: number;
  /** A few failed devices, by host name where known, so the reader knows which machines. */
  failedDevices: { machineId: string; hostname: string | null; reason: string | null }[];
}

/** How many failed devices `status ID` names (the rest: `fleetscan export`). */
export const FAILED_DEVICES_SHOWN = 5;

export function remainingOf(campaign: Campaign): number {
  return campaign.counts.queued + campaign.counts.deferred;
}

export function isDone(campaign: Campaign): boolean {
  return (
    campaign.state === 'finished' ||
    campaign.state === 'cancelled' ||
    (remainingOf(campaign) === 0 && campaign.intakeOpen !== true)
  );
}

/** The `scan` family's budget: used slots per window and any pause, on Redis's clock. */
export async function readBudget(
  limiter: Pick<ScanLimiter, 'usage'>,
  budgetId: string,
  reserve: readonly number[] = [],
  breaker?: Pick<BudgetBreaker, 'read'>,
): Promise<BudgetReport> {
  const [usage]: BudgetUsage[] = await limiter.usage('scan');
  const blocked = breaker ? { blocked: blockedReport(await breaker.read()) } : {};
  return {
    id: budgetId,
    family: 'scan',
    windows: (usage?.windows ?? []).map((w, i) => ({
      cap: w.cap,
      windowMs: w.windowMs,
      used: w.used,
      ...(w.configuredCap === undefined ? {} : { configuredCap: w.configuredCap }),
      ...(reserve[i] ? { reserve: reserve[i] } : {}),
    })),
    pausedUntil: usage?.pausedUntil ?? null,
    ...(usage?.lastDecrease === undefined ? {} : { lastDecrease: usage.lastDecrease }),
    ...blocked,
  };
}

/** One campaign's status, with the ETA the shared budget allows. */
export async function readCampaignStatus(deps: {
  store: CampaignStore;
  redis: Redis;
  budget: BudgetReport;
  campaign: Campaign;
  /** The Redis key prefix: with it, the status carries the campaign's lifecycle record. */
  prefix?: string;
  /** `readSlotExits`: the real slot times; without them the ETA assumes them evenly spread. */
  slotExits?: readonly (readonly number[])[];
  /** Every live worker (`listWorkers`). */
  workers: readonly LiveWorker[];
  /** The campaign's entry of its lane's due set (`readNextAttempts`); absent: not read. */
  nextAttempt?: NextAttempt | null | undefined;
}): Promise<CampaignStatus> {
  const { campaign, budget } = deps;
  const remaining = remainingOf(campaign);
  const noWorkers = lacksWorkers(campaign, deps.workers);
  const next = remaining > 0 ? (deps.nextAttempt ?? null) : null;
  let eta: EtaReport | null = null;
  if (campaign.state === 'running' && !noWorkers) {
    const others = (await deps.store.listCampaigns()).map((c) => ({
      ...c,
      remaining: remainingOf(c),
    }));
    const aheadInQueue = slotsAhead({ ...campaign, remaining }, others);
    const redisNow = await redisTimeMs(deps.redis);
    // dispatch-n.lua lets a normal or background call fill a window only to cap − reserve.
    const reserve = campaign.priority === 'urgent' ? [] : budget.windows.map((w) => w.reserve ?? 0);
    const budgetMs = estimateCompletion({
      remaining: remaining + aheadInQueue,
      windows: budget.windows,
      usedNow: budget.windows.map((w) => w.used),
      pausedForMs: budget.pausedUntil === null ? 0 : budget.pausedUntil - redisNow,
      slotExits: deps.slotExits,
      reserve,
    });
    const ms = etaAfterRetries(budgetMs, next?.last ?? null, redisNow);
    const wait = deps.slotExits ? fullWindowWait(budget.windows, deps.slotExits, reserve) : null;
    eta = {
      remaining,
      aheadInQueue,
      ms,
      at: new Date(Date.now() + ms).toISOString(),
      waitingFor:
        wait && remaining > 0
          ? {
              windowMs: wait.windowMs,
              until: new Date(Date.now() + wait.waitMs).toISOString(),
              cap: wait.cap,
              ...(wait.reserve === undefined ? {} : { reserve: wait.reserve }),
            }
          : null,
    };
  }
  const actionsRecorded = campaign.counts.requested;
  const lifecycle =
    deps.prefix === undefined
      ? undefined
      : await createLifecycleStore(deps.redis, deps.prefix).get(campaign.id);
  const failedDevices =
    campaign.counts.failed > 0
      ? (
          await deps.store.listDevices(campaign.id, {
            state: 'failed',
            limit: FAILED_DEVICES_SHOWN,
          })
        ).devices
          .slice(0, FAILED_DEVICES_SHOWN)
          .map((d) => ({ machineId: d.machineId, hostname: d.hostname ?? null, reason: d.reason }))
      : [];
  return {
    campaign,
    actionsRecorded,
    remaining,
    done: isDone(campaign),
    budget,
    eta,
    workers: workersOf(deps.workers, campaign.tenant),
    noWorkers,
    ...(lifecycle ? { lifecycle } : {}),
    nextAttemptAt: next ? new Date(next.first).toISOString() : null,
    devicesDue: next?.devices ?? 0,
    failedDevices,
  };
}
