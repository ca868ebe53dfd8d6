import type { FastifyInstance } from 'fastify';
import type { DashboardMetrics } from '../metrics.js';

/** `/metrics` in Prometheus text format; behind the same credentials as the pages. */
export function registerMetricsRoute(app: FastifyInstance, metrics: DashboardMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.scrape();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(body);
  });
}
