import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { pino } from 'pino';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { BudgetLane } from '../../src/lanes/budget-lane.js';
import type { ScheduleClock } from '../../src/schedules/schedule-clock.js';
import {
  startScheduleRunner,
  type ScheduleRunnerHooks,
} from '../../src/schedules/schedule-runner.js';
import { buildScheduleSpec, type ScheduleInput } from '../../src/schedules/schedule-spec.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';

export const silent = pino({ level: 'silent' });
export const machineId = (n: number) => n.toString(16).padStart(40, '0');

/** A clock the test moves by hand. */
export function manualClock(start: number): ScheduleClock & { set(ms: number): void } {
  let now = start;
  return {
    scale: 1,
    now: () => now,
    realDelay: (ms) => ms,
    set(ms) {
      now = ms;
    },
  };
}

/** A device file of `n` ids in a new temporary folder. */
export function deviceFile(n: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fleetscan-sched-')), 'ids.txt');
  writeFileSync(file, `${Array.from({ length: n }, (_, i) => machineId(i + 1)).join('\n')}\n`);
  return file;
}

/**
 * One "process": its own Redis connections, campaign store and firing loop (driven by hand:
 * `tickOnce`), sharing `clock` with the others. Devices go into a lane that only counts them:
 * these tests are about fires, not dispatch.
 */
export function scheduleProcess(
  redisUrl: string,
  prefix: string,
  clock: ScheduleClock,
  options: { lockTtlMs?: number; hooks?: ScheduleRunnerHooks } = {},
) {
  const redis = new Redis(redisUrl);
  const campaigns = createCampaignStore(redis, prefix);
  const countingLane = {
    push: (_campaign: unknown, devices: readonly unknown[]) => Promise.resolve(devices.length),
  } as unknown as BudgetLane;
  const store = createScheduleStore(redis, prefix);
  const runner = startScheduleRunner({
    redis,
    prefix,
    store,
    fire: {
      campaigns,
      lanes: { forTenant: () => countingLane },
      lister: () => {
        throw new Error('no Defender client in this test');
      },
      log: silent,
    },
    clock,
    log: silent,
    tickMs: 0,
    lockTtlMs: options.lockTtlMs ?? 10_000,
    identity: 'test',
    hooks: options.hooks,
    audit: createAuditLog(redis, prefix),
  });
  return {
    audit: createAuditLog(redis, prefix),
    redis,
    campaigns,
    store,
    runner,
    async close() {
      await runner.stop();
      redis.disconnect();
    },
  };
}

export function spec(input: Partial<ScheduleInput> & { name: string }) {
  return buildScheduleSpec({ cron: '*/10 * * * *', comment: 'test', ...input }, 'test', '/');
}
