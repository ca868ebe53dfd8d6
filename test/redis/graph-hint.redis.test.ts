import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { graphClientFromConfig } from '../../src/runtime/hunting-from-config.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('graphhint');
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('verify against a Graph that does not resolve', () => {
  it('says which URL it used and that GRAPH_API_URL set it', async () => {
    const config = loadConfig({
      env: {
        REDIS_URL: testRedisUrl(),
        FLEETSCAN_PREFIX: prefix,
        FLEETSCAN_BUDGET_PREFIX: prefix,
        GRAPH_API_URL: 'https://graph.invalid',
        GRAPH_ACCESS_TOKEN: 'not-used',
      },
    });
    const graph = graphClientFromConfig(config, redis, pino({ level: 'silent' }));
    try {
      const error = await graph
        .runHuntingQuery('DeviceEvents | take 1')
        .catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ code: 'NetworkError', retry: 'never' });
      expect((error as Error).message).toContain(
        'ENOTFOUND graph.invalid (Graph is https://graph.invalid, set by hunting.graphUrl / GRAPH_API_URL. ' +
          'Against the simulator, GRAPH_API_URL must be its URL (`fleetscan simulate` prints it))',
      );
    } finally {
      graph.close();
    }
  });
});
