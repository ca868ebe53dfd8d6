import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_FORMATS,
  type WebhookSubscription,
} from '../../webhooks/webhook-event.js';
import { DELIVERY_STATES } from '../../webhooks/webhook-store.js';
import type { ApiDeps } from '../api-deps.js';
import { defineRoute } from '../define-route.js';
import { ApiProblem } from '../problem.js';
import { allowsTenant, hasScope, type ApiToken } from '../tokens/token-store.js';
import { DestinationRefusedError, maskedUrl } from '../../webhooks/webhook-destination.js';
import { campaignFor } from './campaign-access.js';

const TAGS = ['webhooks'];

const SubscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  tenant: z.string().nullable(),
  campaignId: z.string().nullable(),
  format: z.enum(WEBHOOK_FORMATS),
  createdAt: z.string(),
  createdBy: z.string(),
});

const SubscribeBody = z.object({
  url: z.url({ protocol: /^https?$/, error: 'Expected an https URL' }).max(2_000),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1),
  tenant: z.string().min(1).max(64).optional().describe('Only this tenant'),
  campaignId: z
    .string()
    .regex(/^c-[a-z0-9]{12}$/)
    .optional()
    .describe('Only this campaign'),
  format: z
    .enum(WEBHOOK_FORMATS)
    .optional()
    .describe(
      'json (default): the signed event; teams: an Adaptive Card for a Teams Workflows or ' +
        'incoming-webhook URL; slack: Block Kit for a Slack incoming webhook',
    ),
});

const SubscriptionParams = z.object({ id: z.string().regex(/^wh-[0-9a-f]{10}$/) });

const DeliverySchema = z.object({
  sequence: z.number().int(),
  eventId: z.string(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  state: z.enum(DELIVERY_STATES),
  createdAt: z.string(),
  attempts: z.array(
    z.object({
      at: z.string(),
      result: z.enum(['delivered', 'failed']),
      /** null for read-only tokens, which see only `result`. */
      status: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number().nullable(),
    }),
  ),
});

/** Read-only tokens see where a subscription points, not its credentials, path or query. */
const canSeeDetails = (token: ApiToken | null) => token !== null && hasScope(token.scopes, 'write');

const subscriptionOut = (s: WebhookSubscription, token: ApiToken | null) => ({
  ...s,
  url: canSeeDetails(token) ? s.url : maskedUrl(s.url),
  createdAt: new Date(s.createdAt).toISOString(),
});

/** A tenant-limited token sees and manages only subscriptions bound to one of its tenants. */
function visible(token: ApiToken | null, s: WebhookSubscription): boolean {
  if (!token) return false;
  return token.tenants === null || (s.tenant !== null && allowsTenant(token, s.tenant));
}

export function registerWebhookRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const subscriptionFor = async (token: ApiToken | null, id: string) => {
    const found = await deps.webhooks.get(id);
    if (!found || !visible(token, found))
      throw new ApiProblem('not-found', `No subscription ${id}`);
    return found;
  };

  defineRoute(api, {
    method: 'POST',
    url: '/webhooks',
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to events; the signing secret is shown once',
    description:
      'Deliveries are POSTs signed with HMAC-SHA256 over `${timestamp}.${body}` ' +
      '(headers fleetscan-webhook-timestamp and fleetscan-webhook-signature: v1=<hex>), retried ' +
      'with backoff, in order per subscription; dedupe on fleetscan-webhook-id. Events: ' +
      'campaign.finished, campaign.failed-devices, campaign.settled, campaign.threats-found ' +
      '(verify saw Defender Antivirus detect something on a device: once per device), and ' +
      'tenant.blocked / ' +
      'tenant.unblocked (a wrong secret, an expired token, an Entra outage or a missing API ' +
      'permission stopped or no longer stops the tenant; data.reason, data.message), and ' +
      'security.denials (refused requests of one token or address reached api.denialAlert; ' +
      'tokens for all tenants only). Receivers must be https and must not resolve to loopback, ' +
      'link-local, private or metadata addresses unless webhooks.allowHttp / allowNetworks say so. ' +
      'format: json (default, the signed event), teams (an Adaptive Card message for a Teams ' +
      'Workflows or incoming-webhook URL) or slack (Block Kit for a Slack incoming webhook); the ' +
      'same events, order, retries and signature headers in every format.',
    tags: TAGS,
    scope: 'write',
    audit: 'webhook.create',
    body: SubscribeBody,
    responses: {
      201: z.object({ subscription: SubscriptionSchema, secret: z.string() }).describe('Created'),
    },
    handler: async ({ body, request }) => {
      const token = request.apiToken;
      if (!token) throw new ApiProblem('unauthorized', 'No token');
      let tenant = body.tenant ?? null;
      if (body.campaignId !== undefined) {
        const campaign = await campaignFor(deps, request, body.campaignId);
        tenant ??= campaign.tenant;
      }
      if (token.tenants !== null && (tenant === null || !allowsTenant(token, tenant))) {
        throw new ApiProblem(
          'forbidden',
          'This token may subscribe only to its own tenants; name one.',
        );
      }
      if (body.events.includes('security.denials') && token.tenants !== null) {
        throw new ApiProblem('forbidden', 'security.denials needs a token for all tenants.');
      }
      try {
        await deps.guard.resolve(body.url);
      } catch (error) {
        if (!(error instanceof DestinationRefusedError)) throw error;
        throw new ApiProblem('invalid-request', `body.url: ${error.message}`);
      }
      const { subscription, secret } = await deps.webhooks.subscribe({
        url: body.url,
        events: [...new Set(body.events)],
        tenant,
        campaignId: body.campaignId ?? null,
        format: body.format ?? 'json',
        createdAt: deps.clock.now(),
        createdBy: `token:${token.name}`,
      });
      request.auditTarget = subscription.id;
      request.auditDetail = `${body.events.join(',')} -> ${new URL(body.url).origin} (${subscription.format})`;
      return {
        status: 201 as const,
        body: { subscription: subscriptionOut(subscription, token), secret },
      };
    },
  });

  defineRoute(api, {
    method: 'GET',
    url: '/webhooks',
    operationId: 'listWebhooks',
    summary: 'List webhook subscriptions',
    tags: TAGS,
    scope: 'read',
    responses: {
      200: z.object({ subscriptions: z.array(SubscriptionSchema) }).describe('Subscriptions'),
    },
    handler: async ({ request }) => {
      const all = await deps.webhooks.list();
      const subscriptions = all
        .filter((s) => visible(request.apiToken, s))
        .map((s) => subscriptionOut(s, request.apiToken));
      return { status: 200 as const, body: { subscriptions } };
    },
  });

  defineRoute(api, {
    method: 'DELETE',
    url: '/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Unsubscribe (deliveries not yet made end failed)',
    tags: TAGS,
    scope: 'write',
    audit: 'webhook.delete',
    params: SubscriptionParams,
    responses: { 200: z.object({ deleted: z.boolean() }).describe('Deleted') },
    handler: async ({ params, request }) => {
      await subscriptionFor(request.apiToken, params.id);
      return {
        status: 200 as const,
        body: { deleted: await deps.webhooks.unsubscribe(params.id) },
      };
    },
  });

  defineRoute(api, {
    method: 'GET',
    url: '/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'Recent deliveries of a subscription, newest first, with every attempt',
    tags: TAGS,
    scope: 'read',
    params: SubscriptionParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1_000).optional() }),
    responses: { 200: z.object({ deliveries: z.array(DeliverySchema) }).describe('Deliveries') },
    handler: async ({ params, query, request }) => {
      await subscriptionFor(request.apiToken, params.id);
      const deliveries = await deps.webhooks.deliveries(params.id, { limit: query.limit ?? 100 });
      return {
        status: 200 as const,
        body: {
          deliveries: deliveries.map((d) => ({
            sequence: d.sequence,
            eventId: d.eventId,
            type: d.type,
            state: d.state,
            createdAt: new Date(d.createdAt).toISOString(),
            attempts: d.attempts.map((a) => {
              const at = new Date(a.at).toISOString();
              const result =
                a.status !== null && a.status >= 200 && a.status < 300
                  ? ('delivered' as const)
                  : ('failed' as const);
              // Status codes, errors and timings of internal receivers would make a port
              // scanner for whoever holds a read token: those see the outcome only.
              return canSeeDetails(request.apiToken)
                ? { ...a, at, result }
                : { at, result, status: null, error: null, durationMs: null };
            }),
          })),
        },
      };
    },
  });
}
