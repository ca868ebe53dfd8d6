import type { FastifyInstance } from 'fastify';
import type { Redis } from '../../shared/redis.js';
import { checkRedis } from '../redis-health.js';
import { checkStoreIdentity } from '../../ops/store-identity.js';

/**
 * `/healthz`: the process answers. `/readyz`: Redis answers, will not evict jobs, and has not
 * lost data (with `storePrefix`: the store identity of src/ops/store-identity.ts). Both are
 * public (orchestrators probe without credentials) and say nothing but that.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  redis: Redis,
  requireNoEviction: boolean,
  storePrefix?: string,
) {
  app.get('/healthz', () => ({ status: 'ok' }));
  registerReadyRoute(app, redis, requireNoEviction, storePrefix);
}

/** `/readyz` alone (the API server has its own `/healthz`). */
export function registerReadyRoute(
  app: FastifyInstance,
  redis: Redis,
  requireNoEviction: boolean,
  storePrefix?: string,
) {
  app.get('/readyz', async (_request, reply) => {
    const health = await checkRedis(redis, requireNoEviction);
    const store =
      health.reachable && storePrefix !== undefined
        ? await checkStoreIdentity(redis, storePrefix).catch(() => null)
        : null;
    const storeLost = store !== null && !store.ok;
    const ready = health.ready && !storeLost;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      redis: { reachable: health.reachable, evictionPolicy: health.evictionPolicy },
      ...(store ? { store: { lost: storeLost } } : {}),
      problem: store && !store.ok ? `${store.problem} ${store.fix}` : health.problem,
    });
  });
}
