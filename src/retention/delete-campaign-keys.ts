import type { Redis } from 'ioredis';
import { campaignKeys } from '../campaigns/campaign-keys.js';

/**
 * Removes a campaign's records from Redis without ever blocking it: the device hash `batch` fields
 * per HDEL (HSCAN finds them), then the small hashes, then any other `campaign:<id>:*` key other
 * features may keep (UNLINK, which frees memory off the main thread). Safe to run again.
 */
export async function deleteCampaignKeys(input: {
  redis: Redis;
  prefix: string;
  campaignId: string;
  batch: number;
  heartbeat?: () => Promise<void>;
}): Promise<number> {
  const { redis, batch } = input;
  const keys = campaignKeys(input.prefix, input.campaignId);
  let removed = 0;
  // HSCAN returns each field present throughout at least once; deleting behind it is allowed.
  // A second pass catches what a rehash may have moved past the cursor.
  while ((await redis.exists(keys.devices)) === 1) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(keys.devices, cursor, 'COUNT', batch);
      cursor = next;
      const fields = flat.filter((_, i) => i % 2 === 0);
      for (let i = 0; i < fields.length; i += batch) {
        removed += await redis.hdel(keys.devices, ...fields.slice(i, i + batch));
      }
      await input.heartbeat?.();
    } while (cursor !== '0');
  }
  await redis.unlink(keys.counts, keys.campaign);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.campaign}:*`, 'COUNT', 1_000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
  return removed;
}
