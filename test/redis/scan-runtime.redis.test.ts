import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import {
  RedisEvictionError,
  RedisUnavailableError,
  waitForRedis,
} from '../../src/runtime/redis-checks.js';
import { freePort, startRedisServer, type OwnRedis } from '../../src/shared/redis-server.js';
import { createRedis } from '../../src/shared/redis.js';

const silent = pino({ level: 'silent' });
const servers: OwnRedis[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

function configFor(url: string, requireNoEviction: boolean) {
  return loadConfig({
    env: {},
    overrides: {
      'redis.url': url,
      'redis.prefix': 'fstest-runtime',
      'redis.budgetPrefix': 'fstest-runtime',
      'redis.requireNoEviction': requireNoEviction,
      'log.level': 'silent',
    },
  });
}

describe('runtime Redis checks', () => {
  it('refuses a Redis that may evict keys, naming the setting to change', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();

    const refused = buildRuntime(configFor(server.url, true), { role: 'test', log: silent });
    await expect(refused).rejects.toBeInstanceOf(RedisEvictionError);
    await expect(refused).rejects.toThrow(/allkeys-lru.*noeviction.*requireNoEviction/s);

    const runtime = await buildRuntime(configFor(server.url, false), { role: 'test', log: silent });
    await runtime.close();
  });

  it('gives up on an unreachable Redis after the timeout, with a clear message', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const redis = createRedis(url);
    redis.on('error', () => undefined);
    try {
      await expect(
        waitForRedis(redis, { url, log: silent, timeoutMs: 1_000 }),
      ).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      redis.disconnect();
    }
  });

  it('comes up by itself when Redis starts a moment later', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = createRedis(url);
    redis.on('error', () => undefined);
    try {
      const waiting = waitForRedis(redis, { url, log: silent, timeoutMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      servers.push(await startRedisServer({ port }));
      await expect(waiting).resolves.toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });
});
