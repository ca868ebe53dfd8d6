import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { startCampaignWatcher } from '../../src/webhooks/campaign-watcher.js';
import { createWebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { createWebhookStore } from '../../src/webhooks/webhook-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { seedCampaign } from './dashboard-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('campaign watcher', () => {
  it('watches from one process at a time and announces each fact once', async () => {
    const prefix = uniquePrefix('watch');
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = createWebhookQueue(redis, prefix);
    cleanups.push(async () => {
      await queue.close();
      await cleanupPrefix(testRedisUrl(), prefix);
      redis.disconnect();
    });
    const store = createCampaignStore(redis, prefix);
    const webhooks = createWebhookStore(redis, prefix);
    const { subscription } = await webhooks.subscribe({
      url: 'http://127.0.0.1:9/hook',
      events: ['campaign.finished', 'campaign.failed-devices'],
      tenant: null,
      campaignId: null,
      createdAt: 0,
      createdBy: 'test',
    });
    const seeded = await seedCampaign(store, {
      name: 'done',
      total: 4,
      requested: 2,
      failed: 2,
      deferred: 0,
    });
    await store.closeIntake(seeded.id);
    const deps = {
      redis,
      prefix,
      store,
      webhooks,
      queue,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      intervalMs: 1_000,
    };
    const first = startCampaignWatcher(deps, { autoStart: false });
    const second = startCampaignWatcher(deps, { autoStart: false });
    expect(await first.tick()).toBe(true);
    expect(await second.tick()).toBe(false);
    expect(await first.tick()).toBe(true);

    const sent = await webhooks.deliveries(subscription.id);
    expect(sent.map((d) => [d.sequence, d.type])).toEqual([
      [2, 'campaign.finished'],
      [1, 'campaign.failed-devices'],
    ]);
    // The outbox has a drain job waiting for the delivery worker.
    expect(await queue.getJob(`drain.${subscription.id}`)).toBeDefined();
    await first.stop();
    await second.stop();
  });
});
