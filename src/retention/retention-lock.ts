import { randomUUID } from 'node:crypto';
import type { Redis } from '../shared/redis.js';

/** Takes or renews the lock only while it is free or already ours. */
const TAKE_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
const DROP_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * One archiving process at a time (the sweep on every worker, `prune`, `archive`): a Redis lock
 * with a lease, renewed while work goes on, so a killed holder frees it after `leaseMs`.
 */
export function createRetentionLock(redis: Redis, key: string, leaseMs = 60_000) {
  const owner = randomUUID();
  let renewedAt = 0;
  return {
    owner,
    async take(): Promise<boolean> {
      const held = await redis.eval(TAKE_LOCK, 1, key, owner, String(leaseMs));
      renewedAt = Date.now();
      return held === 1;
    },
    /** Renews at most every tenth of the lease; throws when another process has taken it. */
    async renew(): Promise<void> {
      if (Date.now() - renewedAt < leaseMs / 10) return;
      if ((await redis.eval(TAKE_LOCK, 1, key, owner, String(leaseMs))) !== 1) {
        throw new Error('the retention lock was lost (another process took it over)');
      }
      renewedAt = Date.now();
    },
    async drop(): Promise<void> {
      await redis.eval(DROP_LOCK, 1, key, owner);
    },
  };
}

export type RetentionLock = ReturnType<typeof createRetentionLock>;
