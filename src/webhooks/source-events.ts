import type { Campaign } from '../campaigns/campaign.js';
import type { WebhookEvent } from './webhook-event.js';

/*
 * Events whose sources are built by other issues. Their owners emit them with
 * `webhookStore.emit(event)`; the builders keep the ids deterministic (one fact, one id) so a
 * second emit from another process sends nothing twice.
 */

/** Every action of the campaign reached a final status (the action tracker of issue 12). */
export function campaignSettledEvent(campaign: Campaign, settledAt: number): WebhookEvent {
  return {
    id: `campaign.settled:${campaign.id}:${String(settledAt)}`,
    type: 'campaign.settled',
    occurredAt: settledAt,
    tenant: campaign.tenant,
    campaignId: campaign.id,
    data: {
      campaign: {
        id: campaign.id,
        name: campaign.name,
        state: campaign.state,
        counts: campaign.counts,
      },
    },
  };
}

/**
 * A tenant stopped (or resumed) taking calls, with why (the tenant breaker of issue 9). `at` is
 * the block's start for `tenant.blocked` (the same for every process that saw it), so one block
 * is one event; `details` adds the fix and the next probe time.
 */
export function tenantBlockEvent(
  tenant: string,
  blocked: boolean,
  at: number,
  reason: string,
  details: Record<string, unknown> = {},
): WebhookEvent {
  const type = blocked ? 'tenant.blocked' : 'tenant.unblocked';
  return {
    id: `${type}:${tenant}:${String(at)}`,
    type,
    occurredAt: at,
    tenant,
    campaignId: null,
    data: { tenant, reason, ...details },
  };
}
