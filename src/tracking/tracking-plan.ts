import type { Campaign } from '../campaigns/campaign.js';
import { TERMINAL_ACTION_STATUSES } from '../defender/machine-action.js';
import type { CampaignLifecycle } from './lifecycle-store.js';

export type TrackingVerdict = 'track' | 'horizon' | 'done';

/**
 * What the tracker does with a campaign this round: `done` once settled or ended, `horizon`
 * when it was created `horizonMs` ago or longer (record what stayed open, then stop), else `track`.
 */
export function trackingVerdict(
  campaign: Pick<Campaign, 'createdAt'>,
  lifecycle: Pick<CampaignLifecycle, 'settledAt' | 'trackingEndedAt'>,
  nowMs: number,
  horizonMs: number,
): TrackingVerdict {
  if (lifecycle.settledAt !== null || lifecycle.trackingEndedAt !== null) return 'done';
  return nowMs - campaign.createdAt >= horizonMs ? 'horizon' : 'track';
}

export function isTerminalStatus(status: string | null | undefined): boolean {
  return typeof status === 'string' && TERMINAL_ACTION_STATUSES.has(status);
}

/**
 * Settled: nothing more will be requested (finished or cancelled, intake closed, no device
 * waiting) and every recorded action is terminal (Succeeded, Failed, TimeOut, Cancelled).
 */
export function isSettled(
  campaign: Pick<Campaign, 'state' | 'intakeOpen' | 'counts'>,
  openActions: number,
): boolean {
  if (campaign.state !== 'finished' && campaign.state !== 'cancelled') return false;
  if (campaign.intakeOpen === true) return false;
  if (campaign.counts.queued > 0 || campaign.counts.deferred > 0) return false;
  return openActions === 0;
}
