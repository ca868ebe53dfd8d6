import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { DeviceRecord } from '../../campaigns/campaign.js';
import { exportDevices } from '../../campaigns/export-devices.js';
import { reasonCode } from '../../control/retry-failed.js';
import type { ApiDeps } from '../api-deps.js';
import {
  CampaignIdParams,
  DeviceListQuery,
  DevicePageSchema,
  ExportQuery,
} from '../campaign-schemas.js';
import { defineRoute } from '../define-route.js';
import { campaignFor } from './campaign-access.js';

const TAGS = ['devices'];

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function deviceOut(d: DeviceRecord) {
  return {
    machineId: d.machineId,
    state: d.state,
    machineActionId: d.machineActionId,
    actionStatus: d.actionStatus,
    reason: d.reason,
    attempts: d.attempts,
    requestedAt: iso(d.requestedAt),
    joinedExisting: d.joinedExisting,
    deferredUntil: iso(d.deferredUntil),
  };
}

export function registerDeviceRoutes(api: FastifyInstance, deps: ApiDeps): void {
  defineRoute(api, {
    method: 'GET',
    url: '/campaigns/:id/devices',
    operationId: 'listDevices',
    summary: "A page of a campaign's devices, filtered by state, id or failure code",
    tags: TAGS,
    scope: 'read',
    params: CampaignIdParams,
    query: DeviceListQuery,
    responses: { 200: DevicePageSchema },
    handler: async ({ params, query, request }) => {
      await campaignFor(deps, request, params.id);
      const page = await deps.store.listDevices(params.id, {
        state: query.reason === undefined ? query.state : 'failed',
        search: query.search?.toLowerCase(),
        cursor: query.cursor ?? null,
        limit: query.limit ?? 100,
      });
      const devices = page.devices.filter(
        (d) => query.reason === undefined || reasonCode(d.reason) === query.reason,
      );
      return {
        status: 200 as const,
        body: { devices: devices.map(deviceOut), cursor: page.cursor },
      };
    },
  });

  defineRoute(api, {
    method: 'GET',
    url: '/campaigns/:id/export',
    operationId: 'exportCampaign',
    summary: 'Every device of a campaign, as `fleetscan export` writes it',
    tags: TAGS,
    scope: 'read',
    params: CampaignIdParams,
    query: ExportQuery,
    responses: {},
    rawResponses: {
      200: {
        description: 'The export, streamed (columns as `fleetscan export`)',
        contentTypes: Object.values(CONTENT_TYPES),
      },
    },
    handler: async ({ params, query, request, reply }) => {
      const campaign = await campaignFor(deps, request, params.id);
      const format = query.format ?? 'ndjson';
      const context = { tenant: campaign.tenant, priority: campaign.priority };
      return {
        sent: reply
          .type(CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="${params.id}.${format}"`)
          .header('cache-control', 'no-store')
          .send(
            Readable.from(exportDevices(deps.store.iterateDevices(params.id), format, context)),
          ),
      };
    },
  });
}
