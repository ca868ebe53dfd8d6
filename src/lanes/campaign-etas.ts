import type { Priority } from '../campaigns/campaign.js';
import { estimateCompletion, etaAfterRetries } from '../campaigns/eta.js';
import { slotsAhead } from './slots-ahead.js';
import type { BudgetUsage } from './budget-usage.js';

export interface QueuedCampaign {
  id: string;
  createdAt: number;
  /** Devices still needing a call: queued + deferred. */
  remaining: number;
  /** Only running campaigns move; a paused one holds its place without using the budget. */
  running: boolean;
  /** With both: the lanes' order (classes, then turns within a class) instead of oldest first. */
  tenant?: string;
  priority?: Priority;
  /** When its last busy device is due (epoch ms): it does not end before. */
  lastDueAt?: number | null;
}

/**
 * ETA (ms from now) per running campaign. All campaigns share one FIFO queue and one scan budget,
 * so a campaign is done when its own devices and those of every older running campaign are: each
 * ETA drains their sum through the budget's windows (`estimateCompletion`, shared with `status`).
 * Busy devices may wait longer: this is the earliest possible finish, not a promise.
 */
export function estimateCampaignEtas(
  campaigns: readonly QueuedCampaign[],
  budget: BudgetUsage | undefined,
  now: number,
): Map<string, number | null> {
  const etas = new Map<string, number | null>();
  const ordered = campaigns.filter((c) => c.running).sort((a, b) => a.createdAt - b.createdAt);
  let ahead = 0;
  const lined = ordered.map((c) => ({
    id: c.id,
    remaining: c.remaining,
    state: 'running' as const,
    tenant: c.tenant ?? '',
    priority: c.priority ?? ('normal' as const),
  }));
  for (const campaign of ordered) {
    ahead += campaign.remaining;
    if (campaign.tenant !== undefined && campaign.priority !== undefined) {
      const self = lined.find((c) => c.id === campaign.id);
      if (self) ahead = campaign.remaining + slotsAhead(self, lined);
    }
    if (campaign.remaining === 0) etas.set(campaign.id, 0);
    else if (!budget || budget.windows.length === 0) etas.set(campaign.id, null);
    else {
      const ms = estimateCompletion({
        remaining: ahead,
        windows: budget.windows,
        usedNow: budget.windows.map((window) => window.used),
        pausedForMs: budget.pausedUntil === null ? 0 : Math.max(0, budget.pausedUntil - now),
        // A normal or background call may fill a window only to cap − reserve (dispatch-n.lua).
        reserve: campaign.priority === 'urgent' ? [] : budget.windows.map((w) => w.reserve ?? 0),
      });
      etas.set(campaign.id, etaAfterRetries(ms, campaign.lastDueAt ?? null, now));
    }
  }
  return etas;
}
