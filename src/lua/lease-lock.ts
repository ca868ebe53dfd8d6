import { randomUUID } from 'node:crypto';
import type { Redis } from '../shared/redis.js';
import { luaScript } from './lua-scripts.js';

/**
 * A Redis lock with a lease: one holder at a time, freed by a holder that stops (drop) or dies
 * (the lease ends). Used by the tracker (per tenant), the schedule runner, retention and the
 * webhook campaign watcher.
 */
export interface LeaseLock {
  readonly key: string;
  /** Takes the lock when free or extends it when this lock object holds it: the value, or null. */
  take(): Promise<string | null>;
  /** Extends the lock while it is still `value`; false when it expired and is gone or taken. */
  renew(value: string): Promise<boolean>;
  /** Frees the lock if it is still `value`. */
  drop(value: string): Promise<void>;
}

export interface LeaseLockOptions {
  key: string;
  leaseMs: number;
  /**
   * The fencing counter (same Redis Cluster hash tag as `key`): each holder's value is then
   * `<owner>:<token>` with a token no earlier holder had, for writes that check it. Absent: the
   * value is the owner.
   */
  fenceKey?: string | undefined;
}

export function createLeaseLock(redis: Redis, options: LeaseLockOptions): LeaseLock {
  const { key, fenceKey } = options;
  const owner = randomUUID();
  const lease = String(options.leaseMs);
  return {
    key,
    async take() {
      const value = fenceKey
        ? await luaScript('lock-take-fenced-2').run(redis, [key, fenceKey], [owner, lease])
        : await luaScript('lock-take-1').run(redis, [key], [owner, lease]);
      return typeof value === 'string' ? value : null;
    },
    async renew(value) {
      return (await luaScript('lock-renew-1').run(redis, [key], [value, lease])) === 1;
    },
    async drop(value) {
      await luaScript('lock-drop-1').run(redis, [key], [value]);
    },
  };
}
