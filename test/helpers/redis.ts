import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Redis } from 'ioredis';

/** The Redis every test shares, found by global-setup; each test isolates itself with a prefix. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses. */
export function uniquePrefix(label = 't'): string {
  return `fstest-${label}-${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under `prefix` (call in afterEach). */
export async function cleanupPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
