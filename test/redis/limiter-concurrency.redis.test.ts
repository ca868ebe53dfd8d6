import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScanLimiter, type ScanLimiter } from '../../src/limiter/scan-limiter.js';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  maxInAnyWindow,
  maxOverlappingInAnyWindow,
  type CallInterval,
} from '../helpers/window-count.js';
import { connect } from './limiter-fixtures.js';

/**
 * Real time, Redis TIME, compressed windows, many callers on several connections (processes).
 * Asserts the invariant from recorded timestamps, never durations.
 */

const PROCESSES = 4;
const CALLERS_PER_PROCESS = 6;
const WINDOWS = [
  { cap: 20, windowMs: 200 },
  { cap: 45, windowMs: 600 },
];
const GUARD_MS = 2;
const TARGET_CALLS = 120;

let connections: Redis[];
let prefix: string;

beforeAll(() => {
  connections = connect(PROCESSES);
});
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
});

/** One limiter per connection (process), all on one budget, on Redis TIME. */
function realLimiters(clock?: Clock): ScanLimiter[] {
  return connections.map((redis) =>
    createScanLimiter({
      redis,
      prefix,
      budgetId: 'commercial:tenant:app',
      windows: WINDOWS,
      guardMs: GUARD_MS,
      throttleDefaultMs: 1000,
      leaseMs: 5000,
      ...(clock ? { clock } : {}),
    }),
  );
}

/** The real clock, counting how often callers were told to wait. */
function countingClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    now: () => systemClock.now(),
    sleep: (ms, signal) => {
      waits.push(ms);
      return systemClock.sleep(ms, signal);
    },
  };
}

describe('limiter under concurrent callers', () => {
  it('never lets a server counting arrivals see more than a cap, across processes', async () => {
    prefix = uniquePrefix('limconc');
    const clock = countingClock();
    const limiters = realLimiters(clock);
    const calls: CallInterval[] = [];
    const arrivals: number[] = [];
    let granted = 0;
    let released = 0;

    const caller = async (limiter: ScanLimiter) => {
      while (granted < TARGET_CALLS) {
        const permit = await limiter.acquire('scan');
        granted++;
        await delay(Math.random() * 6); // token fetch, connection: before the request leaves
        if (Math.random() < 0.1) {
          released++;
          await permit.release(); // e.g. the token fetch failed: nothing left
          continue;
        }
        arrivals.push(Date.now()); // the server counts here (same host clock as Redis TIME)
        await delay(Math.random() * 10); // the reply travels back
        await permit.settle();
        calls.push({ start: permit.grantedAt, end: permit.settledAt! });
      }
    };
    await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from({ length: CALLERS_PER_PROCESS }, () => caller(limiter)),
      ),
    );

    expect(calls.length + released).toBe(granted);
    arrivals.sort((a, b) => a - b);
    const grants = calls.map((call) => call.start).sort((a, b) => a - b);
    for (const { cap, windowMs } of WINDOWS) {
      expect(maxInAnyWindow(arrivals, windowMs), `arrivals in ${windowMs} ms`).toBeLessThanOrEqual(
        cap,
      );
      expect(
        maxOverlappingInAnyWindow(calls, windowMs + GUARD_MS),
        `calls in ${windowMs} ms`,
      ).toBeLessThanOrEqual(cap);
    }
    // The budget was used, not left idle: the short window filled to its cap at the start.
    expect(maxInAnyWindow(grants, WINDOWS[0]!.windowMs)).toBe(WINDOWS[0]!.cap);
    // Waiting callers sleep: at most one wait per caller per slot handed out, each a real wait.
    expect(clock.waits.length).toBeLessThanOrEqual(granted * PROCESSES * CALLERS_PER_PROCESS);
    expect(Math.min(...clock.waits)).toBeGreaterThanOrEqual(1);
  });

  it('holds every process while a 429 pause lasts', async () => {
    prefix = uniquePrefix('limconc');
    const limiters = realLimiters();
    await limiters[0]!.throttle('scan', 150);
    const [usage] = await limiters[1]!.usage('scan');
    const pausedUntil = usage!.pausedUntil!;
    const permits = await Promise.all(limiters.map((limiter) => limiter.acquire('scan')));
    for (const permit of permits) {
      expect(permit.grantedAt).toBeGreaterThanOrEqual(pausedUntil);
      await permit.settle();
    }
  });
});
