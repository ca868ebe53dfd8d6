import type { Redis } from '../../src/shared/redis.js';
import { pino } from 'pino';
import type { RateWindow } from '../../src/config/duration.js';
import type { BreakerSettings } from '../../src/lanes/budget-breaker.js';
import { createLanes, type Lanes } from '../../src/lanes/lanes.js';
import {
  createScanLimiter,
  type AdaptiveSettings,
  type ScanLimiter,
} from '../../src/limiter/scan-limiter.js';
import type { Clock } from '../../src/shared/clock.js';
import { UnknownTenantError } from '../../src/tenants/tenant-registry.js';

export const LANE_WINDOWS: RateWindow[] = [
  { cap: 10, windowMs: 1_000 },
  { cap: 100, windowMs: 60_000 },
];

export interface LaneFixtureOptions {
  /** Tenant names, each with its own budget (`commercial:<name>:app`). Default: `default`. */
  tenants?: readonly string[];
  windows?: readonly RateWindow[];
  reserve?: readonly RateWindow[];
  deviceLeaseMs?: number;
  /** The breaker's probe timings (default 5 s → 5 min). */
  breaker?: BreakerSettings;
  /** Simulated time for the budget scripts (`time: 'clock'`); Redis TIME when absent. */
  clock?: Clock;
  /** `limits.adaptive` of every limiter; off when absent. */
  adaptive?: AdaptiveSettings;
  /** The worker's wall clock, which due times are on (with Redis TIME: a host's own clock). */
  wallClock?: Pick<Clock, 'now'>;
}

/** Lanes over real limiters for `tenants`, without credentials or clients. */
export function testLanes(
  redis: Redis,
  prefix: string,
  options: LaneFixtureOptions = {},
): { lanes: Lanes; limiters: Map<string, ScanLimiter> } {
  const names = options.tenants ?? ['default'];
  const limiters = new Map<string, ScanLimiter>();
  const tenants = names.map((name) => {
    const budgetId = `commercial:${name}:app`;
    const limiter = createScanLimiter({
      redis,
      prefix,
      budgetId,
      windows: options.windows ?? LANE_WINDOWS,
      guardMs: 0,
      throttleDefaultMs: 1_000,
      leaseMs: 10_000,
      ...(options.clock ? { clock: options.clock, time: 'clock' as const } : {}),
      ...(options.adaptive ? { adaptive: options.adaptive } : {}),
      log: pino({ level: 'silent' }),
    });
    limiters.set(name, limiter);
    return {
      name,
      cloud: 'commercial' as const,
      budgetId,
      limiter,
      client: () => {
        throw new Error('no client in lane tests');
      },
    };
  });
  const lanes = createLanes({
    redis,
    prefix,
    tenants: {
      get: (name) => {
        const found = tenants.find((t) => t.name === name);
        if (!found) throw new UnknownTenantError(name, names);
        return found;
      },
      list: () => tenants,
    },
    reserve: options.reserve ?? [],
    deviceLeaseMs: options.deviceLeaseMs ?? 30_000,
    breaker: options.breaker,
    clock: options.wallClock ?? options.clock,
  });
  return { lanes, limiters };
}
