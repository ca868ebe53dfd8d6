import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetKeys } from '../../src/limiter/budget-keys.js';
import { createScanLimiter } from '../../src/limiter/scan-limiter.js';
import type { Redis } from '../../src/shared/redis.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { connect, simClock, T0 } from './limiter-fixtures.js';

/**
 * The adaptive probe limit (src/lua/includes/budget-admission.lua), as a table: a budget's state
 * → how many slots it grants at once, and whether the probe limit or the window stops it. The
 * limit keeps at most probeInflight slots in flight at positions of the window above the level
 * the server is taken to accept: max(known-good, verified, adaptive floor). Slots in flight
 * below that level are not probes (issue 26: a cold budget's first window goes faster by the
 * floor, and no discovery of a lower cap costs more than probeInflight × 429).
 */
const WINDOW = { cap: 10, windowMs: 1_000 };
const BUDGET = 'commercial:tenant:app';
const root = uniquePrefix('probe-limit');

interface Row {
  name: string;
  /** `limits.adaptive.min` as calls per window (the floor); null: adaptive budget off. */
  floor: number | null;
  probeInflight: number;
  /** Known-good level (what the server accepted in this window), verified level, or none. */
  good?: number;
  verified?: number;
  /** Our slots already replied (stamped in the window log) and still in flight. */
  settled?: number;
  inflight?: number;
  grants: number;
  /** What refuses the next slot: the probe limit (a reply must come) or the window (its cap). */
  then: 'probe' | 'window';
}

const rows: Row[] = [
  {
    name: 'fresh budget: the floor, then probes',
    floor: 1,
    probeInflight: 4,
    grants: 5,
    then: 'probe',
  },
  {
    name: 'fresh budget, one probe at a time',
    floor: 1,
    probeInflight: 1,
    grants: 2,
    then: 'probe',
  },
  { name: 'a higher floor goes at once', floor: 3, probeInflight: 2, grants: 5, then: 'probe' },
  { name: 'known-good level', floor: 1, probeInflight: 2, good: 6, grants: 8, then: 'probe' },
  {
    name: 'verified level above the known-good one',
    floor: 1,
    probeInflight: 2,
    good: 3,
    verified: 6,
    grants: 8,
    then: 'probe',
  },
  {
    name: 'accepted calls replied: probes above them',
    floor: 1,
    probeInflight: 2,
    good: 4,
    settled: 4,
    grants: 2,
    then: 'probe',
  },
  {
    name: 'calls in flight below the accepted level are no probes',
    floor: 1,
    probeInflight: 2,
    good: 4,
    settled: 2,
    inflight: 3,
    grants: 1,
    then: 'probe',
  },
  {
    name: 'probes in flight already',
    floor: 1,
    probeInflight: 2,
    good: 4,
    settled: 4,
    inflight: 2,
    grants: 0,
    then: 'probe',
  },
  {
    name: 'the cap stops probes near it',
    floor: 1,
    probeInflight: 4,
    good: 9,
    settled: 8,
    grants: 2,
    then: 'window',
  },
  {
    name: 'a floor at the cap never probes',
    floor: 10,
    probeInflight: 1,
    grants: 10,
    then: 'window',
  },
  {
    name: 'adaptive budget off: no probe limit',
    floor: null,
    probeInflight: 1,
    grants: 10,
    then: 'window',
  },
];

let redis: Redis;
beforeAll(() => {
  [redis] = connect(1) as [Redis];
});
afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), root);
  redis.disconnect();
});

describe('adaptive probe limit (table)', () => {
  it.each(rows.map((row, i) => [row.name, row, i] as const))('%s', async (_name, row, i) => {
    const prefix = `${root}-${i}`;
    const clock = simClock(T0);
    const limiter = createScanLimiter({
      redis,
      prefix,
      budgetId: BUDGET,
      windows: [WINDOW],
      guardMs: 0,
      leaseMs: 60_000,
      throttleDefaultMs: 1_000,
      clock,
      time: 'clock',
      log: pino({ level: 'silent' }),
      ...(row.floor === null
        ? {}
        : {
            adaptive: {
              min: { cap: row.floor, windowMs: WINDOW.windowMs },
              holdMs: 500,
              holdMaxMs: 4_000,
              increaseEveryMs: 100,
              probeInflight: row.probeInflight,
            },
          }),
    });
    const keys = budgetKeys(prefix, BUDGET, 'scan', [WINDOW]);
    const field = String(WINDOW.windowMs);
    for (let s = 0; s < (row.settled ?? 0); s++) await redis.zadd(keys.windows[0]!, T0, `s${s}`);
    for (let f = 0; f < (row.inflight ?? 0); f++) await redis.zadd(keys.inflight, T0, `f${f}`);
    if (row.good !== undefined) await redis.hset(keys.good, field, row.good);
    if (row.verified !== undefined) await redis.hset(keys.caps, `verified:${field}`, row.verified);

    let granted = 0;
    let refusal = 0;
    for (;;) {
      const result = await limiter.tryAcquire('scan');
      if (!result.permit) {
        refusal = result.waitMs;
        break;
      }
      granted++;
    }
    expect(granted).toBe(row.grants);
    // A probe refusal answers the short probe wait (a reply must come first); the window's
    // answers how long until its oldest slot leaves (here a whole window).
    expect(refusal < WINDOW.windowMs / 2 ? 'probe' : 'window').toBe(row.then);
  });
});
