import type { Campaign } from '../../../campaigns/campaign.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../../campaigns/redis-campaign-store.js';
import type { Config } from '../../../config/schema.js';
import { createLanes, type Lanes } from '../../../lanes/lanes.js';
import { createCallStats } from '../../../metrics/call-stats.js';
import { timelineBucketMs } from '../../../metrics/call-timeline.js';
import { createLogger } from '../../../shared/logger.js';
import type { Redis } from '../../../shared/redis.js';
import { createTenantRegistry, type TenantRegistry } from '../../../tenants/tenant-registry.js';
import { limiterFromConfig } from '../../../runtime/limiter-from-config.js';
import { connectRedisForCommand } from '../../context.js';
import { UsageError } from '../../errors.js';
import { breakerSettings } from '../../../lanes/budget-breaker.js';

/** What a one-shot campaign command works with; `close()` lets the process exit. */
export interface CommandSession {
  config: Config;
  redis: Redis;
  store: RedisCampaignStore;
  /** The configured tenants (budgets and, on first use, clients). */
  tenants: TenantRegistry;
  /** Every budget's line of waiting devices (`scan` fills it, pause/resume/cancel steer it). */
  lanes: Lanes;
  close(): Promise<void>;
}

/** Connects to Redis (exit 1 with a clear message when it does not answer) and builds the store. */
export async function openSession(
  config: Config,
  access: 'read' | 'write' = 'write',
): Promise<CommandSession> {
  const redis = await connectRedisForCommand(config, access);
  const store = createCampaignStore(redis, config.redis.prefix);
  const log = createLogger({ level: config.log.level, name: 'fleetscan' });
  const tenants = createTenantRegistry(config, {
    redis,
    callStats: createCallStats(redis, config.redis.prefix, {
      timelineBucketMs: timelineBucketMs(config.limits.windows),
    }),
    log,
    limiterFromConfig,
  });
  const lanes = createLanes({
    redis,
    prefix: config.redis.prefix,
    tenants,
    reserve: config.limits.reserve,
    deviceLeaseMs: config.worker.lockDuration,
    breaker: breakerSettings(config),
  });
  return {
    config,
    redis,
    store,
    tenants,
    lanes,
    async close() {
      tenants.close();
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** Runs `work` with a session and always closes it. */
export async function withSession<T>(
  config: Config,
  work: (session: CommandSession) => Promise<T>,
  access: 'read' | 'write' = 'write',
): Promise<T> {
  const session = await openSession(config, access);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** `withSession` for a command that only reads: it still works on a store that awaits `migrate`. */
export function withReadSession<T>(
  config: Config,
  work: (session: CommandSession) => Promise<T>,
): Promise<T> {
  return withSession(config, work, 'read');
}

/** The campaign, or exit 1 naming the id when there is none. */
export async function requireCampaign(store: RedisCampaignStore, id: string): Promise<Campaign> {
  const campaign = await store.getCampaign(id);
  if (!campaign) {
    throw new UsageError(`No campaign ${JSON.stringify(id)}. List them with \`fleetscan status\`.`);
  }
  return campaign;
}
