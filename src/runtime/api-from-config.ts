import { resolveCloud } from '../auth/clouds.js';
import { defaultTenantAuth, tokenCachePath } from '../auth/tenant-auth.js';
import { tenantTokenProvider } from '../auth/tenant-token-provider.js';
import type { Config } from '../config/schema.js';
import { createDefenderClient, type DefenderClient } from '../defender/client.js';
import type { CallGate } from '../defender/call-gate.js';
import {
  budgetIdFor,
  createScanLimiter,
  type AdaptiveSettings,
  type ScanLimiter,
} from '../limiter/scan-limiter.js';
import type { CallStats } from '../shared/call-stats.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';

/**
 * The shared API budget as this configuration names it (cloud, tenant, app). Workers, `scan
 * --query/--tag/--group` and `status` all build it here, so none of them keeps other limits.
 */
export function limiterFromConfig(config: Config, redis: Redis, log: Logger): ScanLimiter {
  return createScanLimiter({
    redis,
    // Not the deployment prefix: deployments sharing a Redis and an app share one budget.
    prefix: config.redis.budgetPrefix,
    budgetId: budgetIdFor(config),
    windows: config.limits.windows.map((w) => ({ cap: w.cap, windowMs: w.windowMs })),
    guardMs: config.limits.guard,
    throttleDefaultMs: config.limits.throttleDefault,
    leaseMs: config.limits.lease,
    budgetScope: config.limits.budgetScope,
    adaptive: adaptiveSettings(config.limits.adaptive, config.limits.reserve),
    log: log.child({ component: 'limiter' }),
  });
}

/** `limits.adaptive` as the limiter takes it; undefined when turned off. */
export function adaptiveSettings(
  adaptive: Config['limits']['adaptive'],
  reserve?: Config['limits']['reserve'],
): AdaptiveSettings | undefined {
  if (!adaptive.enabled) return undefined;
  return {
    min: adaptive.min,
    holdMs: adaptive.hold,
    holdMaxMs: adaptive.holdMax,
    increaseEveryMs: adaptive.increaseEvery,
    probeInflight: adaptive.probeInflight,
    ...(reserve === undefined ? {} : { reserve }),
  };
}

/**
 * The Defender client for this configuration: tokens per cloud, every call through `gate` and
 * counted in the shared call statistics. Throws ConfigError when no credentials are configured.
 */
export function clientFromConfig(
  config: Config,
  deps: { gate: CallGate; callStats: CallStats; log: Logger; tenant?: string },
): DefenderClient {
  const auth = defaultTenantAuth(config);
  const tenant = deps.tenant ?? auth.name;
  const settings = { ...auth, name: tenant, cachePath: tokenCachePath(config.defender, tenant) };
  const tokens = tenantTokenProvider(settings, {
    log: deps.log,
    onRefresh: () => {
      deps.callStats.recordTokenRefresh();
    },
  });
  return createDefenderClient({
    apiUrl: resolveCloud(config.defender).apiUrl,
    tokens,
    gate: deps.gate,
    timeoutMs: config.defender.requestTimeout,
    pageSize: config.defender.pageSize,
    throttleDefaultMs: config.limits.throttleDefault,
    log: deps.log.child({ component: 'defender' }),
    onCall: (event) => {
      deps.callStats.recordApiCall(event);
    },
  });
}
