import { randomUUID } from 'node:crypto';
import type { Redis } from '../shared/redis.js';

/**
 * Takes the lock when free (a new fencing token from the counter) or returns the caller's own
 * value when it already holds it. Value: `<owner>:<token>`.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current == false then
  local token = redis.call('INCR', KEYS[2])
  local value = ARGV[1] .. ':' .. token
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
  return value
end
if string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
return false`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The lock of one tenant's tracker: trackers of different tenants never wait for each other. */
export function trackerLockKey(prefix: string, tenant: string): string {
  // The braces: one hash tag per tenant, so lock and fence share a Cluster slot.
  return `${prefix}:lock:{action-tracker:${tenant}}`;
}

/**
 * The lock's token counter: beside the lock, so it needs the lock key to carry a Redis Cluster
 * hash tag (ACQUIRE touches both in one script, which a cluster allows within one slot only).
 */
export function fenceKeyOf(lockKey: string): string {
  return `${lockKey}:fence`;
}

export interface FencedLock {
  readonly key: string;
  /** The held value (`owner:token`), or null when another process holds the lock. */
  acquire(): Promise<string | null>;
  /** Extends the lock; false when it is no longer `value` (expired and taken over). */
  renew(value: string): Promise<boolean>;
  release(value: string): Promise<void>;
}

/**
 * A Redis lock with a fencing token: every holder gets a value no earlier holder had, and every
 * write of the tracker checks that value inside its Lua script. A holder that stalled past the
 * TTL (GC pause, slow Redis) and lost the lock therefore cannot write over its successor.
 */
export function createFencedLock(redis: Redis, key: string, ttlMs: number): FencedLock {
  const owner = randomUUID();
  return {
    key,
    async acquire() {
      const value = await redis.eval(ACQUIRE, 2, key, fenceKeyOf(key), owner, String(ttlMs));
      return typeof value === 'string' ? value : null;
    },
    async renew(value) {
      return (await redis.eval(RENEW, 1, key, value, String(ttlMs))) === 1;
    },
    async release(value) {
      await redis.eval(RELEASE, 1, key, value);
    },
  };
}
