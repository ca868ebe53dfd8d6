import type { Config } from '../../../config/schema.js';
import type { DefenderClient } from '../../../defender/client.js';
import type { ScanLimiter } from '../../../limiter/scan-limiter.js';
import { clientFromConfig, limiterFromConfig } from '../../../runtime/api-from-config.js';
import { createCallStats } from '../../../shared/call-stats.js';
import type { Logger } from '../../../shared/logger.js';
import type { Redis } from '../../../shared/redis.js';

export { limiterFromConfig };

/**
 * A Defender client for the CLI (List Machines for target resolution), every call through the
 * shared limiter the workers use and counted in the shared call statistics. Throws ConfigError
 * (exit 1, naming the missing keys) when no credentials are configured.
 */
export function defenderFromConfig(
  config: Config,
  redis: Redis,
  log: Logger,
): { client: DefenderClient; limiter: ScanLimiter } {
  const limiter = limiterFromConfig(config, redis, log);
  const callStats = createCallStats(redis, config.redis.prefix);
  return { client: clientFromConfig(config, { gate: limiter, callStats, log }), limiter };
}
