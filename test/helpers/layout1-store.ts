import type { Redis } from 'ioredis';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { keyLayoutKey } from '../../src/ops/key-layout.js';

/** A campaign with two queued devices, as this version writes it (layout 2, no marker yet). */
export async function writeCampaign(redis: Redis, prefix: string): Promise<string> {
  const id = newCampaignId();
  const store = createCampaignStore(redis, prefix);
  await store.createCampaign({
    id,
    name: 'weekly',
    scanType: 'Quick',
    comment: 'weekly',
    createdAt: Date.now(),
    createdBy: 'ops',
    source: 'file:devices.txt',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  await store.addDevices(id, ['a'.repeat(40), 'b'.repeat(40)]);
  return id;
}

/** The same campaign under the names of layout 1 (before the Redis Cluster hash tags). */
export async function writeLayout1Campaign(redis: Redis, prefix: string): Promise<string> {
  const id = await writeCampaign(redis, prefix);
  for (const key of await redis.keys(`${prefix}:*`)) {
    const old = key.replace(/\{([^}]*)\}/, '$1');
    if (old !== key) await redis.rename(key, old);
  }
  await redis.del(keyLayoutKey(prefix));
  return id;
}
