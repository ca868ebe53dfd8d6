import type { Campaign } from '../campaigns/campaign.js';
import type { WebhookEvent } from './webhook-event.js';

/** What the watcher has already announced for a campaign. */
export interface SeenCampaign {
  failed: number;
  finishedAt: number | null;
}

export const NOTHING_SEEN: SeenCampaign = { failed: 0, finishedAt: null };

function summary(campaign: Campaign): Record<string, unknown> {
  return {
    id: campaign.id,
    name: campaign.name,
    state: campaign.state,
    tenant: campaign.tenant,
    priority: campaign.priority,
    total: campaign.total,
    counts: campaign.counts,
    failuresByReason: campaign.failuresByReason,
    finishedAt: campaign.finishedAt === null ? null : new Date(campaign.finishedAt).toISOString(),
  };
}

/**
 * Pure: the events a campaign's current record calls for, given what was announced before, in
 * the order they are sent (failures before the end), and what is announced after them.
 * - `campaign.failed-devices` when more devices failed than last announced (a retry that lowers
 *   the count only moves the mark down).
 * - `campaign.finished` once per finish (a retried campaign that finishes again is new news).
 * Ids are derived from the facts, so a second watcher emitting the same thing sends nothing.
 * An event's time is when it happened where the record says so (a finished campaign's end), so
 * subscriptions made later do not receive an old campaign's news.
 */
export function campaignEvents(
  campaign: Campaign,
  seen: SeenCampaign,
  now: number,
): { events: WebhookEvent[]; seen: SeenCampaign } {
  const events: WebhookEvent[] = [];
  const failed = campaign.counts.failed;
  const final = campaign.state === 'finished' || campaign.state === 'cancelled';
  const happenedAt = final ? (campaign.finishedAt ?? campaign.createdAt) : now;
  if (failed > seen.failed) {
    events.push({
      id: `campaign.failed-devices:${campaign.id}:${String(failed)}`,
      type: 'campaign.failed-devices',
      occurredAt: happenedAt,
      tenant: campaign.tenant,
      campaignId: campaign.id,
      data: { campaign: summary(campaign), failed, newFailures: failed - seen.failed },
    });
  }
  const finishedAt = campaign.state === 'finished' ? campaign.finishedAt : null;
  if (finishedAt !== null && finishedAt !== seen.finishedAt) {
    events.push({
      id: `campaign.finished:${campaign.id}:${String(finishedAt)}`,
      type: 'campaign.finished',
      occurredAt: finishedAt,
      tenant: campaign.tenant,
      campaignId: campaign.id,
      data: { campaign: summary(campaign) },
    });
  }
  return { events, seen: { failed, finishedAt: finishedAt ?? seen.finishedAt } };
}
