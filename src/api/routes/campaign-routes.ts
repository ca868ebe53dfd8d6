import type { FastifyInstance } from 'fastify';
import { DEFAULT_TENANT } from '../../campaigns/campaign.js';
import { ConfigError } from '../../config/load.js';
import {
  startCampaign,
  StartCampaignError,
  type ScanSource,
} from '../../control/start-campaign.js';
import { listedDeviceSource } from '../../control/scan-sources.js';
import { TargetQueryError } from '../../producer/sources/errors.js';
import type { ApiDeps } from '../api-deps.js';
import {
  CampaignIdParams,
  CampaignListQuery,
  CampaignListSchema,
  CampaignSchema,
  CreateCampaignBody,
  CreateCampaignQuery,
  CreatedCampaignSchema,
  type CreateCampaignInput,
} from '../campaign-schemas.js';
import { describeCampaigns } from '../campaign-view.js';
import { readAllNextAttempts, type NextAttempt } from '../../lanes/next-attempts.js';
import { defineRoute } from '../define-route.js';
import { ApiProblem } from '../problem.js';
import { allowsTenant, type ApiToken } from '../tokens/token-store.js';
import { campaignFor } from './campaign-access.js';
import { checkDeviceIds, evidenceSource, evidenceTargetOf } from './campaign-sources.js';

const TAGS = ['campaigns'];

/** The tenant a create names, if configured and allowed for the token. */
function tenantFor(deps: ApiDeps, token: ApiToken, body: CreateCampaignInput): string {
  const tenant = body.tenant ?? DEFAULT_TENANT;
  if (!deps.tenants.names.includes(tenant)) {
    // The tenant list is an MSSP's customer list: a token limited to some tenants sees those.
    const shown =
      token.tenants === null
        ? deps.tenants.names
        : deps.tenants.names.filter((name) => allowsTenant(token, name));
    throw new ApiProblem('invalid-request', `body.tenant: unknown tenant "${tenant}"`, {
      errors: [{ where: 'body.tenant', message: `this token may use: ${shown.join(', ')}` }],
    });
  }
  if (!allowsTenant(token, tenant)) {
    throw new ApiProblem('forbidden', `This token may not act on tenant "${tenant}".`);
  }
  return tenant;
}

async function sourceFor(
  deps: ApiDeps,
  tenant: string,
  body: CreateCampaignInput,
): Promise<ScanSource> {
  if (body.devices !== undefined) return checkDeviceIds(body.devices);
  const evidence = evidenceTargetOf(body);
  if (evidence) return evidenceSource(deps, tenant, evidence);
  try {
    // `query`/`tags`/`group` through List Machines, as `fleetscan scan --query/--tag/--group`.
    return listedDeviceSource(deps.tenants.get(tenant).client(), {
      query: body.query,
      tags: body.tags,
      group: body.group,
      includeInactive: body.includeInactive,
    });
  } catch (error) {
    if (error instanceof TargetQueryError) throw new ApiProblem('invalid-request', error.message);
    if (error instanceof ConfigError) {
      throw new ApiProblem(
        'not-configured',
        `Tenant "${tenant}" has no API credentials: ${error.message}`,
      );
    }
    throw error;
  }
}

/** Every lane's due devices by campaign: each campaign's next retry. */
function nextAttemptsOf(deps: ApiDeps): Promise<Map<string, NextAttempt>> {
  return readAllNextAttempts(
    deps.redis,
    deps.lanes.all().map((lane) => lane.keys.due),
  );
}

export function registerCampaignRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const view = async (ids: readonly string[]) => {
    const all = await deps.store.listCampaigns();
    const shown = ids.map((id) => all.find((c) => c.id === id)).filter((c) => c !== undefined);
    return describeCampaigns(shown, all, {
      tenants: deps.tenants,
      now: deps.clock.now(),
      nextAttempts: await nextAttemptsOf(deps),
    });
  };

  defineRoute(api, {
    method: 'POST',
    url: '/campaigns',
    operationId: 'createCampaign',
    summary: 'Create a campaign and queue its devices',
    description:
      'Devices as a JSON array (`devices`) or an NDJSON body (options then in the query string), ' +
      'or selected by `query`/`tags`/`group`, or from evidence: `hunting` (a KQL query with a ' +
      'DeviceId column), `incident` or `alert` (their device evidence), read from Microsoft Graph ' +
      'before anything is created. Any device id that is not a machine id refuses the ' +
      'whole request (400) before anything is created or called. Send an Idempotency-Key: a ' +
      'repeat within 24 h answers the first campaign instead of starting another.',
    tags: TAGS,
    scope: 'write',
    audit: 'campaign.create',
    query: CreateCampaignQuery,
    body: CreateCampaignBody,
    extraBodyTypes: {
      'application/x-ndjson': 'One machine id per line: a JSON string or {"machineId": "..."}',
    },
    responses: { 201: CreatedCampaignSchema },
    handler: async ({ body, request }) => {
      const token = request.apiToken;
      if (!token) throw new ApiProblem('unauthorized', 'No token');
      const tenant = tenantFor(deps, token, body);
      const source = await sourceFor(deps, tenant, body);
      const started = await startCampaign(
        { store: deps.store, lanes: deps.lanes, now: () => deps.clock.now() },
        {
          source,
          scanType: body.scanType ?? 'Quick',
          comment: body.comment,
          name: body.name,
          createdBy: `token:${token.name}`,
          tenant,
          priority: body.priority,
          window: body.window ?? null,
        },
      ).catch((error: unknown) => {
        if (error instanceof StartCampaignError && error.campaignId === null) {
          throw new ApiProblem('invalid-request', error.message);
        }
        if (error instanceof StartCampaignError) {
          throw new ApiProblem('upstream-failed', error.message, { campaignId: error.campaignId });
        }
        throw error;
      });
      request.auditTarget = started.campaign.id;
      request.auditDetail = `${String(started.accepted)} devices from ${started.campaign.source}`;
      const [campaign] = await view([started.campaign.id]);
      if (!campaign) throw new ApiProblem('internal', 'The campaign vanished after creation');
      return {
        status: 201 as const,
        headers: { location: `${request.url.split('?')[0] ?? ''}/${campaign.id}` },
        body: {
          campaign,
          accepted: started.accepted,
          duplicate: started.duplicate,
          skipped: started.skipped,
        },
      };
    },
  });

  defineRoute(api, {
    method: 'GET',
    url: '/campaigns',
    operationId: 'listCampaigns',
    summary: 'List campaigns, newest first',
    tags: TAGS,
    scope: 'read',
    query: CampaignListQuery,
    responses: { 200: CampaignListSchema },
    handler: async ({ query, request }) => {
      const token = request.apiToken;
      const all = await deps.store.listCampaigns();
      const shown = all
        .filter((c) => token !== null && allowsTenant(token, c.tenant))
        .filter((c) => query.state === undefined || c.state === query.state)
        .filter((c) => query.tenant === undefined || c.tenant === query.tenant)
        .slice(0, query.limit ?? 50);
      const campaigns = await describeCampaigns(shown, all, {
        tenants: deps.tenants,
        now: deps.clock.now(),
        nextAttempts: await nextAttemptsOf(deps),
      });
      return { status: 200 as const, body: { campaigns } };
    },
  });

  defineRoute(api, {
    method: 'GET',
    url: '/campaigns/:id',
    operationId: 'getCampaign',
    summary: 'One campaign: state, counts, progress, ETA and budget',
    tags: TAGS,
    scope: 'read',
    params: CampaignIdParams,
    responses: { 200: CampaignSchema },
    handler: async ({ params, request }) => {
      const campaign = await campaignFor(deps, request, params.id);
      const [described] = await view([campaign.id]);
      if (!described) throw new ApiProblem('not-found', `No campaign ${params.id}`);
      return { status: 200 as const, body: described };
    },
  });
}
