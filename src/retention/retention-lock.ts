import type { Redis } from '../shared/redis.js';
import { createLeaseLock } from '../lua/lease-lock.js';

/**
 * One archiving process at a time (the sweep on every worker, `prune`, `archive`): a Redis lock
 * with a lease, renewed while work goes on, so a killed holder frees it after `leaseMs`.
 * Unfenced: its key carries no hash tag for a fencing counter beside it.
 */
export function createRetentionLock(redis: Redis, key: string, leaseMs = 60_000) {
  const lock = createLeaseLock(redis, { key, leaseMs });
  let held = '';
  let renewedAt = 0;
  return {
    async take(): Promise<boolean> {
      held = (await lock.take()) ?? '';
      renewedAt = Date.now();
      return held !== '';
    },
    /** Renews at most every tenth of the lease; throws when another process has taken it. */
    async renew(): Promise<void> {
      if (Date.now() - renewedAt < leaseMs / 10) return;
      // Taken again (free or still ours), as a lapsed lease nobody took is not lost work.
      held = (await lock.take()) ?? '';
      if (held === '') {
        throw new Error('the retention lock was lost (another process took it over)');
      }
      renewedAt = Date.now();
    },
    async drop(): Promise<void> {
      if (held !== '') await lock.drop(held);
    },
  };
}

export type RetentionLock = ReturnType<typeof createRetentionLock>;
