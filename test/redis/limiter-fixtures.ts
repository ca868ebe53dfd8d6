import type { RateWindow } from '../../src/config/duration.js';
import type { Clock } from '../../src/shared/clock.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';
import { createScanLimiter, type ScanLimiter } from '../../src/limiter/scan-limiter.js';
import { testRedisUrl } from '../helpers/redis.js';

/** Simulated time: `sleep` moves time forward at once, so `acquire` never really waits. */
export interface SimClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
  readonly sleeps: number[];
}

export const T0 = 1_800_000_000_000;

export function simClock(start = T0): SimClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
      await Promise.resolve();
    },
  };
}

/** Connections that fail fast, so a missing Redis fails the test instead of hanging it. */
export function connect(count: number): Redis[] {
  return Array.from({ length: count }, () => createRedis(testRedisUrl(), { failFast: true }));
}

export interface SimLimiterOptions {
  windows: RateWindow[];
  guardMs?: number;
  leaseMs?: number;
  throttleDefaultMs?: number;
  budgetScope?: 'family' | 'shared';
}

/** A limiter on simulated time (`time: 'clock'`), as the Lua scripts allow for tests. */
export function simLimiter(
  redis: Redis,
  prefix: string,
  clock: Clock,
  options: SimLimiterOptions,
): ScanLimiter {
  return createScanLimiter({
    redis,
    prefix,
    budgetId: 'commercial:tenant:app',
    windows: options.windows,
    guardMs: options.guardMs ?? 0,
    leaseMs: options.leaseMs ?? 60_000,
    throttleDefaultMs: options.throttleDefaultMs ?? 60_000,
    ...(options.budgetScope ? { budgetScope: options.budgetScope } : {}),
    clock,
    time: 'clock',
  });
}
