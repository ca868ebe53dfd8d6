import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { checkRedis } from '../redis-health.js';

/**
 * `/healthz`: the process answers. `/readyz`: Redis answers and will not evict jobs. Both are
 * public (orchestrators probe without credentials) and say nothing but that.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  redis: Redis,
  requireNoEviction: boolean,
) {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const health = await checkRedis(redis, requireNoEviction);
    return reply.code(health.ready ? 200 : 503).send({
      status: health.ready ? 'ready' : 'not ready',
      redis: { reachable: health.reachable, evictionPolicy: health.evictionPolicy },
      problem: health.problem,
    });
  });
}
