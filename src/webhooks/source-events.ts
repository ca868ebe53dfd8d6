import type { Campaign, DeviceThreats } from '../campaigns/campaign.js';
import type { WebhookEvent } from './webhook-event.js';
import type { DenialFlood } from '../audit/audit-denials.js';

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
 * `verify` saw Defender Antivirus detect something on a device of the campaign during its scan
 * (issue 28). The id names the campaign and the device only, so the first run that sees a
 * detection sends it and every later run, in any process, sends nothing (once per device).
 */
export function threatsFoundEvent(
  campaign: Pick<Campaign, 'id' | 'name' | 'tenant'>,
  machineId: string,
  threats: DeviceThreats,
  seenAt: number,
): WebhookEvent {
  return {
    id: `campaign.threats-found:${campaign.id}:${machineId}`,
    type: 'campaign.threats-found',
    occurredAt: seenAt,
    tenant: campaign.tenant,
    campaignId: campaign.id,
    data: { campaign: { id: campaign.id, name: campaign.name }, machineId, threats },
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

/**
 * Refused API requests of one token (or address) on one route reached `api.denialAlert` inside
 * `api.denialWindow`: someone is guessing or flooding. Bound to no tenant, so only subscriptions
 * for every tenant receive it; one event per group and window.
 */
export function securityDenialsEvent(flood: DenialFlood, at: number): WebhookEvent {
  return {
    id: `security.denials:${flood.who}:${flood.action}:${String(flood.status)}:${String(flood.since)}`,
    type: 'security.denials',
    occurredAt: at,
    tenant: '',
    campaignId: null,
    data: { ...flood, since: new Date(flood.since).toISOString() },
  };
}
