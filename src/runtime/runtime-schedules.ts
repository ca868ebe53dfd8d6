import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { createAuditLog } from '../audit/audit-log.js';
import type { Runtime } from './build-runtime.js';
import { graphClientsByTenant } from './hunting-from-config.js';
import { createScheduleClock, type ScheduleClock } from '../schedules/schedule-clock.js';
import {
  startScheduleRunner,
  type ScheduleRunner,
  type ScheduleRunnerDeps,
} from '../schedules/schedule-runner.js';
import { createScheduleStore } from '../schedules/schedule-store.js';

/** The clock schedules and dispatch windows are read in, per `schedules.timeScale/timeOrigin`. */
export function scheduleClockFrom(config: Pick<Config, 'schedules'>): ScheduleClock {
  return createScheduleClock({
    scale: config.schedules.timeScale,
    origin: config.schedules.timeOrigin,
  });
}

/**
 * The firing loop of a worker process, wired to its runtime (null when disabled). Tests may
 * drive it by hand (`tickMs: 0`) and set fault points (`hooks`).
 */
export function startRuntimeScheduleRunner(
  runtime: Runtime,
  overrides: Partial<Pick<ScheduleRunnerDeps, 'tickMs' | 'hooks'>> = {},
): ScheduleRunner | null {
  const { config } = runtime;
  if (!config.schedules.enabled) return null;
  return startScheduleRunner({
    redis: runtime.redis,
    prefix: config.redis.prefix,
    store: createScheduleStore(runtime.redis, config.redis.prefix),
    fire: {
      campaigns: runtime.store,
      lanes: runtime.lanes,
      lister: (tenant) => runtime.tenants.get(tenant).client(),
      graph: graphClientsByTenant(runtime),
      realNow: () => runtime.clock.now(),
      log: runtime.log.child({ component: 'schedules' }),
    },
    clock: scheduleClockFrom(config),
    log: runtime.log.child({ component: 'schedules' }),
    tickMs: config.schedules.tick,
    lockTtlMs: config.schedules.lockTtl,
    identity: `worker@${hostname()}:${String(process.pid)}`,
    audit: createAuditLog(runtime.redis, config.redis.prefix),
    ...overrides,
  });
}
