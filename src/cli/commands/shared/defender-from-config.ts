import { createTokenProvider } from '../../../auth/token-provider.js';
import { resolveCloud } from '../../../auth/clouds.js';
import type { Config } from '../../../config/schema.js';
import { createDefenderClient, type DefenderClient } from '../../../defender/client.js';
import { budgetIdFor, createScanLimiter, type ScanLimiter } from '../../../limiter/scan-limiter.js';
import { createCallStats } from '../../../shared/call-stats.js';
import type { Logger } from '../../../shared/logger.js';
import type { Redis } from '../../../shared/redis.js';

/**
 * The shared API budget as this configuration names it (cloud, tenant, app). `status` reads it
 * and `scan --query/--tag/--group` spends from it, so the CLI never bypasses the limits the
 * workers keep: run both with the same credentials settings.
 */
export function limiterFromConfig(config: Config, redis: Redis, log: Logger): ScanLimiter {
  return createScanLimiter({
    redis,
    prefix: config.redis.prefix,
    budgetId: budgetIdFor(config),
    windows: config.limits.windows.map((w) => ({ cap: w.cap, windowMs: w.windowMs })),
    guardMs: config.limits.guard,
    throttleDefaultMs: config.limits.throttleDefault,
    log: log.child({ component: 'limiter' }),
  });
}

/**
 * A Defender client for the CLI (List Machines for target resolution), every call through the
 * shared limiter and counted in the shared call statistics. Throws ConfigError (exit 1, naming
 * the missing keys) when no credentials are configured.
 */
export function defenderFromConfig(
  config: Config,
  redis: Redis,
  log: Logger,
): { client: DefenderClient; limiter: ScanLimiter } {
  const limiter = limiterFromConfig(config, redis, log);
  const stats = createCallStats(redis, config.redis.prefix);
  const tokens = createTokenProvider(config, {
    log,
    onRefresh: () => {
      stats.recordTokenRefresh();
    },
  });
  const client = createDefenderClient({
    apiUrl: resolveCloud(config.defender).apiUrl,
    tokens,
    gate: limiter,
    timeoutMs: config.defender.requestTimeout,
    pageSize: config.defender.pageSize,
    throttleDefaultMs: config.limits.throttleDefault,
    log: log.child({ component: 'defender' }),
    onCall: (event) => {
      stats.recordApiCall(event);
    },
  });
  return { client, limiter };
}
