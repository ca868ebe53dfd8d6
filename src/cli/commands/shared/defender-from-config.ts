import { DEFAULT_TENANT } from '../../../campaigns/campaign.js';
import type { Config } from '../../../config/schema.js';
import type { DefenderClient } from '../../../defender/client.js';
import type { ScanLimiter } from '../../../limiter/scan-limiter.js';
import { clientFromConfig, limiterFromConfig } from '../../../runtime/api-from-config.js';
import { createCallStats } from '../../../metrics/call-stats.js';
import { timelineBucketMs } from '../../../metrics/call-timeline.js';
import type { Logger } from '../../../shared/logger.js';
import type { Redis } from '../../../shared/redis.js';
import { createTenantRegistry, UnknownTenantError } from '../../../tenants/tenant-registry.js';
import { UsageError } from '../../errors.js';

export { limiterFromConfig };

/**
 * A Defender client of one tenant for the CLI (List Machines for target resolution), every call
 * through the shared budget the workers use and counted in the shared call statistics. Throws
 * ConfigError (exit 1, naming the missing keys) when the tenant has no credentials, and
 * UsageError for a tenant the configuration does not have.
 */
export function defenderFromConfig(
  config: Config,
  redis: Redis,
  log: Logger,
  tenant: string = DEFAULT_TENANT,
): { client: DefenderClient; limiter: ScanLimiter } {
  const callStats = createCallStats(redis, config.redis.prefix, {
    timelineBucketMs: timelineBucketMs(config.limits.windows),
  });
  const registry = createTenantRegistry(config, {
    redis,
    callStats,
    log,
    limiterFromConfig,
    clientFromConfig,
  });
  try {
    const found = registry.get(tenant);
    return { client: found.client(), limiter: found.limiter };
  } catch (error) {
    if (error instanceof UnknownTenantError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
