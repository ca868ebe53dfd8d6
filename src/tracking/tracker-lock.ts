import type { Redis } from '../shared/redis.js';
import { createLeaseLock } from '../lua/lease-lock.js';

/** The lock of one tenant's tracker: trackers of different tenants never wait for each other. */
export function trackerLockKey(prefix: string, tenant: string): string {
  // The braces: one hash tag per tenant, so lock and fence share a Cluster slot.
  return `${prefix}:lock:{action-tracker:${tenant}}`;
}

/**
 * The lock's token counter: beside the lock, so it needs the lock key to carry a Redis Cluster
 * hash tag (lock-take-fenced-2.lua touches both in one script, which a cluster allows within one slot only).
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
  const lock = createLeaseLock(redis, { key, leaseMs: ttlMs, fenceKey: fenceKeyOf(key) });
  return {
    key,
    acquire: () => lock.take(),
    renew: (value) => lock.renew(value),
    release: (value) => lock.drop(value),
  };
}
