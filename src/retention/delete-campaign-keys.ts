import type { Redis } from '../shared/redis.js';
import { scanKeys } from '../shared/scan-keys.js';
import { campaignKeys } from '../campaigns/campaign-keys.js';

/**
 * Removes a campaign's records from Redis without blocking it: UNLINK takes a key out of the
 * keyspace in O(1) and frees a large value on Redis's background thread (lazyfree), so even a
 * 1,000,000-field device hash costs the main thread microseconds (`bench retention`: HSCAN + HDEL
 * in 500-field batches was measured too; its batches each held Redis ~1 ms under load and took
 * 2,000 round trips). Other `campaign:<id>:*` keys that other features may keep are found by SCAN
 * in batches of `batch` and unlinked the same way. Safe to run again.
 */
export async function deleteCampaignKeys(input: {
  redis: Redis;
  prefix: string;
  campaignId: string;
  batch: number;
  heartbeat?: () => Promise<void>;
}): Promise<number> {
  const { redis } = input;
  const keys = campaignKeys(input.prefix, input.campaignId);
  const removed = await redis.hlen(keys.devices);
  await redis.unlink(keys.devices, keys.counts, keys.campaign);
  // The remaining keys (lifecycle, calls, fences...) share the campaign's hash tag, so one
  // UNLINK of a page touches one slot.
  await scanKeys(redis, `${keys.campaign}:*`, input.batch, async (found, node) => {
    if (found.length > 0) await node.unlink(...found);
    await input.heartbeat?.();
  });
  return removed;
}
