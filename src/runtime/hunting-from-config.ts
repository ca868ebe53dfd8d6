import { createTokenProvider, staticTokenProvider } from '../auth/token-provider.js';
import type { Config } from '../config/schema.js';
import { createScanLimiter } from '../limiter/scan-limiter.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';
import { tenantConfigOf } from '../tenants/tenant-registry.js';
import type { Runtime } from './build-runtime.js';
import { createGraphClient, type GraphClient, type HuntingGate } from '../hunting/graph-client.js';
import { graphUrlHint, resolveGraph } from '../hunting/graph-clouds.js';

/**
 * The hunting budget of this tenant: Graph counts hunting calls per tenant (not per app), so
 * the budget id names cloud and tenant only. One limiter budget (`shared` scope) with the
 * `hunting.windows`; the gate maps the one hunting family onto it.
 */
export function huntingGateFromConfig(config: Config, redis: Redis, log: Logger): HuntingGate {
  const tenant = (config.defender.tenantId ?? 'static-token').trim().toLowerCase();
  const limiter = createScanLimiter({
    redis,
    prefix: config.redis.prefix,
    budgetId: `graph:${config.defender.cloud}:${tenant}`,
    windows: config.hunting.windows.map((w) => ({ cap: w.cap, windowMs: w.windowMs })),
    guardMs: config.limits.guard,
    throttleDefaultMs: config.limits.throttleDefault,
    // A hunting query may run 3 minutes: its slot stays counted at least that long.
    leaseMs: Math.max(config.limits.lease, 400_000),
    budgetScope: 'shared',
    log: log.child({ component: 'hunting-limiter' }),
  });
  return {
    acquire: (_family, signal) => limiter.acquire('machines', signal),
    throttle: (_family, ms) => limiter.throttle('machines', ms),
  };
}

/** The Graph client for this configuration: Graph host and scope per cloud, its own budget. */
export function graphClientFromConfig(config: Config, redis: Redis, log: Logger): GraphClient {
  const graph = resolveGraph({
    cloud: config.defender.cloud,
    graphUrl: config.hunting.graphUrl,
    tokenScope: config.hunting.tokenScope,
  });
  const tokens = config.hunting.accessToken
    ? staticTokenProvider(config.hunting.accessToken)
    : createTokenProvider(
        { defender: { ...config.defender, tokenScope: graph.scope, accessToken: undefined } },
        { log },
      );
  return createGraphClient({
    graphUrl: graph.graphUrl,
    tokens,
    gate: huntingGateFromConfig(config, redis, log),
    timeoutMs: Math.max(config.defender.requestTimeout, 200_000),
    throttleDefaultMs: config.limits.throttleDefault,
    log: log.child({ component: 'graph' }),
    unreachableHint: graphUrlHint(config, graph.graphUrl),
  });
}

/**
 * One Graph client per tenant, made on first use: each tenant's evidence and scan events live in
 * its own tenant, read with its credentials under its own hunting budget.
 */
export function graphClientsByTenant(
  runtime: Pick<Runtime, 'config' | 'redis' | 'log'>,
): (tenant: string) => GraphClient {
  const graphs = new Map<string, GraphClient>();
  return (tenant) => {
    let graph = graphs.get(tenant);
    if (!graph) {
      const config = tenantConfigOf(runtime.config, tenant);
      graph = graphClientFromConfig(config, runtime.redis, runtime.log.child({ tenant }));
      graphs.set(tenant, graph);
    }
    return graph;
  };
}
