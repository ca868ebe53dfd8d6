import type { Campaign } from '../../../campaigns/campaign.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../../campaigns/redis-campaign-store.js';
import type { Config } from '../../../config/schema.js';
import { createScanQueue, type ScanQueue } from '../../../scan/scan-queue.js';
import type { Redis } from '../../../shared/redis.js';
import { connectRedisForCommand } from '../../context.js';
import { UsageError } from '../../errors.js';

/** What a one-shot campaign command works with; `close()` lets the process exit. */
export interface CommandSession {
  config: Config;
  redis: Redis;
  store: RedisCampaignStore;
  /** The shared scan queue, made on first use (only commands that add or remove jobs need it). */
  queue: () => ScanQueue;
  close(): Promise<void>;
}

/** Connects to Redis (exit 1 with a clear message when it does not answer) and builds the store. */
export async function openSession(config: Config): Promise<CommandSession> {
  const redis = await connectRedisForCommand(config);
  const store = createCampaignStore(redis, config.redis.prefix);
  let queue: ScanQueue | undefined;
  return {
    config,
    redis,
    store,
    queue: () => (queue ??= createScanQueue(config, redis)),
    async close() {
      await queue?.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** Runs `work` with a session and always closes it. */
export async function withSession<T>(
  config: Config,
  work: (session: CommandSession) => Promise<T>,
): Promise<T> {
  const session = await openSession(config);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** The campaign, or exit 1 naming the id when there is none. */
export async function requireCampaign(store: RedisCampaignStore, id: string): Promise<Campaign> {
  const campaign = await store.getCampaign(id);
  if (!campaign) {
    throw new UsageError(`No campaign ${JSON.stringify(id)}. List them with \`fleetscan status\`.`);
  }
  return campaign;
}
