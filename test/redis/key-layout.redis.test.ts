import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignMeta } from '../../src/campaigns/campaign.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { keyLayoutKey, layout2Name, migrateKeyLayout } from '../../src/ops/key-layout.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { spec } from './schedule-fixture.js';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('layout');
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('layout2Name', () => {
  it.each([
    ['p:campaign:c-abcdefghijkl', 'p:campaign:{c-abcdefghijkl}'],
    ['p:campaign:c-abcdefghijkl:devices', 'p:campaign:{c-abcdefghijkl}:devices'],
    ['p:campaign:c-abcdefghijkl:lifecycle', 'p:campaign:{c-abcdefghijkl}:lifecycle'],
    ['p:campaign:{c-abcdefghijkl}:devices', null],
    ['p:campaigns', null],
    ['p:schedules', 'p:{schedules}:names'],
    ['p:schedule:nightly', 'p:{schedules}:schedule:nightly'],
    ['p:schedule:nightly:history', 'p:{schedules}:schedule:nightly:history'],
    ['p:stats:schedule-fires', 'p:{schedules}:stats:fires'],
    ['p:webhooks:outbox:w-1', 'p:webhooks:outbox:{w-1}'],
    ['p:webhooks:deliveries:w-1', 'p:webhooks:deliveries:{w-1}'],
    ['p:webhooks:subscriptions', null],
    ['p:lock:action-tracker:default', null],
    ['other:campaign:c-abcdefghijkl', null],
  ])('%s -> %s', (key, expected) => {
    expect(layout2Name('p', key)).toBe(expected);
  });
});

describe('migrateKeyLayout', () => {
  it('leaves an empty store untouched (a dry run writes nothing), and marks one in use', async () => {
    await expect(migrateKeyLayout(redis, prefix)).resolves.toEqual({ renamed: 0, conflicts: [] });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    await redis.set(`${prefix}:campaigns`, 'x');
    await migrateKeyLayout(redis, prefix);
    expect(await redis.get(keyLayoutKey(prefix))).toBe('2');
  });

  it('moves an older store to the tagged names once, and the stores find everything', async () => {
    // What the previous version wrote: a campaign with its devices, and a schedule.
    const id = newCampaignId();
    const store = createCampaignStore(redis, prefix);
    const meta: CampaignMeta = {
      id,
      name: 'old',
      scanType: 'Quick',
      comment: 'old',
      createdAt: 1_000,
      createdBy: 'ops',
      source: 'file:devices.txt',
      tenant: 'default',
      priority: 'normal',
      window: null,
      schedule: null,
    };
    await store.createCampaign(meta);
    await store.addDevices(id, ['a'.repeat(40), 'b'.repeat(40)]);
    await createScheduleStore(redis, prefix).put(spec({ name: 'nightly', all: true }), 1_000);
    for (const key of await redis.keys(`${prefix}:*`)) {
      const old = key.replace(/\{([^}]*)\}/, '$1').replace(':schedules:names', ':schedules');
      const back = old
        .replace(`${prefix}:schedules:schedule:`, `${prefix}:schedule:`)
        .replace(`${prefix}:schedules:stats:fires`, `${prefix}:stats:schedule-fires`);
      if (back !== key) await redis.rename(key, back);
    }
    expect(await store.getCampaign(id)).toBeNull();

    const first = await migrateKeyLayout(redis, prefix);
    expect(first.conflicts).toEqual([]);
    expect(first.renamed).toBeGreaterThanOrEqual(4);
    expect(await store.getCampaign(id)).toMatchObject({ id, counts: { queued: 2 } });
    expect((await createScheduleStore(redis, prefix).list()).map((s) => s.spec.name)).toEqual([
      'nightly',
    ]);
    expect(await redis.get(keyLayoutKey(prefix))).toBe('2');
    expect(await migrateKeyLayout(redis, prefix)).toEqual({ renamed: 0, conflicts: [] });
  });
});
