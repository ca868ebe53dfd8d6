import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { laneMember } from '../../src/lanes/lane-keys.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { testLanes } from './lane-fixture.js';

const CAMPAIGN = 'c-clock0000000';
const DEVICE = 'a'.repeat(40);
const DELAY_MS = 5_000;

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('lane-clock');
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

async function redisNowMs(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

describe('lane-finish-8.lua: due times of workers on hosts whose clocks disagree', () => {
  // Issue 15: three hosts, clocks up to ±30 s apart, one Redis; dispatch compares with Redis TIME.
  it.each([25_000, -30_000, 0])(
    'makes a device due its delay after Redis TIME with the worker clock %i ms off',
    async (offsetMs) => {
      const wallClock = { now: () => Date.now() + offsetMs };
      const lane = testLanes(redis, prefix, { wallClock }).lanes.forTenant('default');
      await lane.push({ id: CAMPAIGN, priority: 'normal', paused: false }, [{ machineId: DEVICE }]);
      const result = await lane.dispatch();
      if (!result.grant) throw new Error(`no grant: wait ${result.waitMs} ms`);
      await result.grant.permit.release();
      // Busy device, retry in 5 s: the turn says so on its own (skewed) clock, as process-device does.
      await lane.finish(CAMPAIGN, DEVICE, {
        kind: 'due',
        at: wallClock.now() + DELAY_MS,
        attempt: false,
      });
      const due = Number(await redis.zscore(lane.keys.due, laneMember(CAMPAIGN, DEVICE)));
      const inMs = due - (await redisNowMs());
      // At most the delay; less only by the time since finish (well under the clocks' offsets).
      expect(inMs).toBeLessThanOrEqual(DELAY_MS);
      expect(inMs).toBeGreaterThan(DELAY_MS - 2_000);
    },
  );
});
