import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { DeviceRecord } from '../../campaigns/campaign.js';
import type { CampaignStore } from '../../campaigns/campaign-store.js';
import {
  isExportFormat,
  type ExportContext,
  type ExportFormat,
} from '../../campaigns/export-devices.js';

/** Turns a campaign's devices into export text, chunk by chunk (`exportDevices`, as `fleetscan export`). */
export type ExportWriter = (
  devices: AsyncIterable<DeviceRecord>,
  format: ExportFormat,
  context?: ExportContext,
) => AsyncIterable<string>;

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/**
 * `/campaigns/:id/export.csv|json|ndjson`: the same rows as `fleetscan export`, streamed from the
 * store so that a 100k-device campaign never sits in memory whole.
 */
export function registerExportRoutes(
  app: FastifyInstance,
  store: CampaignStore,
  write: ExportWriter,
): void {
  app.get<{ Params: { id: string; format: string } }>(
    '/campaigns/:id/export.:format',
    async (request, reply) => {
      const { id, format } = request.params;
      if (!isExportFormat(format)) return reply.code(404).send({ error: 'unknown export format' });
      const campaign = await store.getCampaign(id);
      if (!campaign) return reply.code(404).send({ error: 'no such campaign' });
      const context = { tenant: campaign.tenant, priority: campaign.priority };
      return reply
        .type(CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${id}.${format}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(write(store.iterateDevices(id), format, context)));
    },
  );
}
