/** The events a subscription can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'campaign.finished',
  'campaign.settled',
  'campaign.failed-devices',
  'campaign.threats-found',
  'tenant.blocked',
  'tenant.unblocked',
  'security.denials',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * What a subscription's deliveries look like: `json` (the signed event, the default; what
 * playbooks verify), `teams` (an Adaptive Card for a Teams Workflows or incoming-webhook URL) or
 * `slack` (Block Kit for a Slack incoming webhook): webhook-format.ts. All are signed alike.
 */
export const WEBHOOK_FORMATS = ['json', 'teams', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/**
 * One event, before it is fanned out to subscriptions. `id` is deterministic (the same fact
 * always gets the same id), so emitting it twice sends it once, and receivers dedupe on it.
 */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** ms since the epoch. */
  occurredAt: number;
  /** Empty for events of no tenant (`security.denials`). */
  tenant: string;
  campaignId: string | null;
  data: Record<string, unknown>;
}

/** A receiver's subscription. The secret signs every delivery (shown once, when created). */
export interface WebhookSubscription {
  id: string;
  url: string;
  events: WebhookEventType[];
  /** Only events of this tenant; null for every tenant. */
  tenant: string | null;
  /** Only events of this campaign; null for every campaign. */
  campaignId: string | null;
  /** How deliveries are shaped; `json` for subscriptions made before formats existed. */
  format: WebhookFormat;
  createdAt: number;
  createdBy: string;
}

/** Pure: whether `subscription` receives `event` (events older than a subscription are not sent). */
export function subscriptionMatches(
  subscription: WebhookSubscription,
  event: WebhookEvent,
): boolean {
  return (
    subscription.events.includes(event.type) &&
    (subscription.tenant === null || subscription.tenant === event.tenant) &&
    (subscription.campaignId === null || subscription.campaignId === event.campaignId) &&
    subscription.createdAt <= event.occurredAt
  );
}

/** The JSON body sent to a receiver: the event plus its place in this subscription's sequence. */
export function deliveryBody(event: WebhookEvent, sequence: number): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: new Date(event.occurredAt).toISOString(),
    sequence,
    tenant: event.tenant,
    campaignId: event.campaignId,
    data: event.data,
  });
}

/** Delay before attempt `attempt + 1` (1-based count of attempts made): doubling, capped. */
export function retryDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
