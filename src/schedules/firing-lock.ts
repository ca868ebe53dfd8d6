import type { Redis } from '../shared/redis.js';
import { createLeaseLock } from '../lua/lease-lock.js';
import { scheduleKeys } from './schedule-keys.js';

/**
 * The lock that makes one process at a time the one that fires schedules. Every schedule step
 * is checked against the token in Redis (`ScheduleStore.advance`), so a holder that stalled past
 * its lease cannot act on a stale belief after another process took over.
 */
export function createFiringLock(redis: Redis, prefix: string, ttlMs: number) {
  const keys = scheduleKeys(prefix);
  // Fenced: a token no earlier holder had, which every schedule step checks.
  const lock = createLeaseLock(redis, { key: keys.lock, fenceKey: keys.fence, leaseMs: ttlMs });
  let token = '';
  return {
    /** Takes or renews the lock; the token while held, else null. */
    async hold(): Promise<string | null> {
      token = (await lock.take()) ?? '';
      return token === '' ? null : token;
    },
    async release(): Promise<void> {
      if (token === '') return;
      await lock.drop(token);
      token = '';
    },
  };
}

export type FiringLock = ReturnType<typeof createFiringLock>;
