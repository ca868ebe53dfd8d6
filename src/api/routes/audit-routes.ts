import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../api-deps.js';
import { defineRoute } from '../define-route.js';
import { ApiProblem } from '../problem.js';
import { AUDIT_OUTCOMES, AUDIT_SOURCES } from '../../audit/audit-log.js';

const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  who: z.string(),
  action: z.string(),
  target: z.string(),
  from: z.string(),
  status: z.number().int().nullable().describe('HTTP status; null for writes that were no request'),
  detail: z.string(),
  source: z.enum(AUDIT_SOURCES),
  outcome: z.enum(AUDIT_OUTCOMES),
});

/** The audit log, newest first (the dashboard's /audit page shows and exports the same). */
export function registerAuditRoutes(api: FastifyInstance, deps: ApiDeps): void {
  defineRoute(api, {
    method: 'GET',
    url: '/audit',
    operationId: 'listAudit',
    summary: 'The audit log of writes, newest first',
    tags: ['audit'],
    scope: 'read',
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1_000).optional(),
      before: z
        .string()
        .regex(/^\d+-\d+$/)
        .optional()
        .describe('The `next` of the previous page'),
    }),
    responses: {
      200: z
        .object({ entries: z.array(AuditEntrySchema), next: z.string().nullable() })
        .describe('Entries'),
    },
    handler: async ({ query, request }) => {
      // It names every tenant's campaigns, so only tokens for all tenants may read it.
      if (request.apiToken?.tenants !== null) {
        throw new ApiProblem('forbidden', 'The audit log needs a token for all tenants.');
      }
      const limit = query.limit ?? 100;
      const entries = await deps.audit.list({ limit, before: query.before ?? null });
      return {
        status: 200 as const,
        body: {
          entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
          next: entries.length === limit ? (entries.at(-1)?.id ?? null) : null,
        },
      };
    },
  });
}
