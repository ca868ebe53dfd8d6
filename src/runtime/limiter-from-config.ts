import type { Config } from '../config/schema.js';
import {
  budgetIdFor,
  createScanLimiter,
  type AdaptiveSettings,
  type ScanLimiter,
} from '../limiter/scan-limiter.js';
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
