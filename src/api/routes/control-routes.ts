import type { FastifyInstance } from 'fastify';
import { retryFailed, RetryRefusedError } from '../../control/retry-failed.js';
import type { ApiDeps } from '../api-deps.js';
import {
  CampaignIdParams,
  CancelBody,
  ControlResultSchema,
  RetryBody,
  RetryResultSchema,
} from '../campaign-schemas.js';
import { defineRoute } from '../define-route.js';
import { ApiProblem } from '../problem.js';
import { campaignFor } from './campaign-access.js';

const TAGS = ['control'];

/** Pause, resume, cancel (optionally with the kill switch) and retry: the CLI's code paths. */
export function registerControlRoutes(api: FastifyInstance, deps: ApiDeps): void {
  for (const verb of ['pause', 'resume'] as const) {
    defineRoute(api, {
      method: 'POST',
      url: `/campaigns/:id/${verb}`,
      operationId: `${verb}Campaign`,
      summary:
        verb === 'pause'
          ? 'Pause a campaign: no new calls until resumed'
          : 'Resume a paused campaign (safe to repeat)',
      tags: TAGS,
      scope: 'write',
      audit: `campaign.${verb}`,
      params: CampaignIdParams,
      responses: { 200: ControlResultSchema },
      handler: async ({ params, request }) => {
        await campaignFor(deps, request, params.id);
        const result = await deps.control[verb](params.id);
        request.auditDetail = `${result.previous} -> ${result.state}`;
        return { status: 200 as const, body: result };
      },
    });
  }

  defineRoute(api, {
    method: 'POST',
    url: '/campaigns/:id/cancel',
    operationId: 'cancelCampaign',
    summary: 'Cancel a campaign; with actions: true also cancel the MachineActions it sent',
    tags: TAGS,
    scope: 'write',
    audit: 'campaign.cancel',
    params: CampaignIdParams,
    body: CancelBody,
    responses: { 200: ControlResultSchema },
    handler: async ({ params, body, request }) => {
      await campaignFor(deps, request, params.id);
      const withActions = body?.actions === true;
      // Refused before anything changes, so the caller is never left with half a kill switch.
      if (withActions && !deps.cancelActions) {
        throw new ApiProblem(
          'not-configured',
          'Cancelling sent MachineActions (the kill switch) is not available in this deployment; ' +
            'cancel without "actions" to stop further calls.',
        );
      }
      const result = await deps.control.cancel(params.id);
      const actions =
        withActions && deps.cancelActions ? await deps.cancelActions(params.id) : null;
      request.auditDetail = `${result.previous} -> ${result.state}${withActions ? ' +actions' : ''}`;
      return { status: 200 as const, body: { ...result, actions } };
    },
  });

  defineRoute(api, {
    method: 'POST',
    url: '/campaigns/:id/retry',
    operationId: 'retryFailedDevices',
    summary: 'Queue the failed devices again (all, or those of one failure code)',
    description:
      'A device whose earlier call may have reached the API is looked up before any new call, ' +
      'so a retry never doubles a scan that went out.',
    tags: TAGS,
    scope: 'write',
    audit: 'campaign.retry',
    params: CampaignIdParams,
    body: RetryBody,
    responses: { 200: RetryResultSchema },
    handler: async ({ params, body, request }) => {
      await campaignFor(deps, request, params.id);
      const result = await retryFailed(
        { redis: deps.redis, prefix: deps.prefix, store: deps.store, lanes: deps.lanes },
        { campaignId: params.id, reason: body?.reason },
      ).catch((error: unknown) => {
        if (error instanceof RetryRefusedError) throw new ApiProblem('conflict', error.message);
        throw error;
      });
      request.auditDetail = `${String(result.requeued)} requeued${body?.reason ? ` (${body.reason})` : ''}`;
      return { status: 200 as const, body: result };
    },
  });
}
