import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fullWindowWait } from '../../src/campaigns/eta.js';
import { loadConfig } from '../../src/config/load.js';
import { readSlotExits } from '../../src/limiter/slot-exits.js';
import { limiterFromConfig } from '../../src/runtime/api-from-config.js';
import { createLogger } from '../../src/shared/logger.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('exits');
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('readSlotExits', () => {
  it('says when each counted slot leaves each window, in flight ones a window from now', async () => {
    const config = loadConfig({
      env: {
        REDIS_URL: testRedisUrl(),
        FLEETSCAN_PREFIX: prefix,
        FLEETSCAN_BUDGET_PREFIX: prefix,
        FLEETSCAN_RATE_RESERVE: '0',
        FLEETSCAN_RATE_LIMITS: '3/20s,5/1h',
        FLEETSCAN_RATE_GUARD: '0ms',
      },
    });
    const limiter = limiterFromConfig(config, redis, createLogger({ level: 'silent' }));
    const settled = await Promise.all([1, 2].map(() => limiter.acquire('scan')));
    await Promise.all(settled.map((permit) => permit.settle()));
    const inFlight = await limiter.acquire('scan');

    const [minute = [], hour = []] = await readSlotExits(redis, config);
    expect(minute).toHaveLength(3);
    expect(hour).toHaveLength(3);
    for (const ms of minute) {
      expect(ms).toBeGreaterThan(15_000);
      expect(ms).toBeLessThanOrEqual(20_000);
    }
    for (const ms of hour) expect(ms).toBeGreaterThan(3_595_000);
    // Three of three in the 20 s window: the next call waits for the first of them to leave.
    const wait = fullWindowWait(
      config.limits.windows.map((w) => ({ cap: w.cap, windowMs: w.windowMs })),
      [minute, hour],
    );
    expect(wait?.windowMs).toBe(20_000);
    expect(wait?.waitMs).toBe(minute[0]);
    await inFlight.release();
    expect((await readSlotExits(redis, config))[0]).toHaveLength(2);
  });
});
