import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { createFiringLock } from './firing-lock.js';
import { fireSchedule, isRunActive, type FireDeps } from './fire-schedule.js';
import { overlapVerdict, planDue } from './plan-fires.js';
import type { FireRecord, Schedule } from './schedule.js';
import type { ScheduleClock } from './schedule-clock.js';
import type { ScheduleStore } from './schedule-store.js';

export interface ScheduleRunnerDeps {
  redis: Redis;
  prefix: string;
  store: ScheduleStore;
  fire: FireDeps;
  clock: ScheduleClock;
  log: Logger;
  /** How often (real ms) the holder looks for due fires. */
  tickMs: number;
  /** Lease of the firing lock (real ms); a dead holder is replaced after it. */
  lockTtlMs: number;
  /** `worker@host:pid`, in the campaigns it creates. */
  identity: string;
}

/**
 * The firing loop. Every worker process runs one; the firing lock lets one at a time act, and
 * every step moves a schedule's cursor with a fenced compare-and-set before anything is started,
 * so each planned time is handled exactly once however many processes run, restart or stall.
 * (A process that dies between that step and the campaign's creation loses that one run.)
 */
export function startScheduleRunner(deps: ScheduleRunnerDeps) {
  const lock = createFiringLock(deps.redis, deps.prefix, deps.lockTtlMs);
  const log = deps.log;
  let stopped = false;
  let running: Promise<number> | null = null;

  const record = async (name: string, entry: FireRecord) => {
    await deps.store.appendHistory(name, entry);
    if (entry.outcome === 'started' && entry.campaignId !== null)
      await deps.store.recordRun(name, entry.campaignId);
  };

  const fire = (schedule: Schedule, planned: number) =>
    fireSchedule(deps.fire, schedule.spec, {
      planned,
      actual: deps.clock.now(),
      manual: false,
      createdBy: `schedule:${schedule.spec.name} (${deps.identity})`,
    });

  /** Handles what is due for one schedule; returns how many planned times were handled. */
  async function step(schedule: Schedule, token: string): Promise<number> {
    const { spec, state } = schedule;
    const fence = { token, version: state.version };
    const previousActive = async () =>
      state.lastCampaignId !== null &&
      isRunActive(await deps.fire.campaigns.getCampaign(state.lastCampaignId));

    if (state.buffered !== null && !(await previousActive())) {
      if ((await deps.store.advance(spec.name, fence, { buffered: '' })) !== 'done') return 0;
      await record(spec.name, await fire(schedule, state.buffered));
      return 1;
    }

    const now = deps.clock.now();
    const verdicts = planDue(spec, state, now);
    const last = verdicts.at(-1);
    if (!last) return 0;
    const action =
      last.verdict === 'fire'
        ? overlapVerdict(spec.overlap, await previousActive(), state.buffered)
        : null;
    const claimed = await deps.store.advance(spec.name, fence, {
      cursor: String(last.planned),
      ...(action === 'buffer' ? { buffered: String(last.planned) } : {}),
    });
    if (claimed !== 'done') return 0;
    for (const v of verdicts) {
      if (v.verdict !== 'missed') continue;
      await record(spec.name, {
        planned: v.planned,
        actual: now,
        outcome: 'missed',
        reason: v.reason,
        campaignId: null,
        counts: null,
        manual: false,
      });
    }
    if (action === 'skip') {
      await record(spec.name, {
        planned: last.planned,
        actual: now,
        outcome: 'skipped-overlap',
        reason: `run ${state.lastCampaignId ?? '?'} still has queued or deferred devices`,
        campaignId: state.lastCampaignId,
        counts: null,
        manual: false,
      });
    } else if (action === 'start') {
      await record(spec.name, await fire(schedule, last.planned));
    } else if (action === 'buffer') {
      log.info(
        { schedule: spec.name, planned: last.planned },
        'fire buffered behind the running one',
      );
    }
    return verdicts.length;
  }

  /** One look at every schedule, if this process holds the firing lock. */
  async function tickOnce(): Promise<number> {
    const token = await lock.hold();
    if (token === null) return 0;
    let handled = 0;
    for (const schedule of await deps.store.list()) {
      if (stopped) break;
      if (schedule.state.paused) continue;
      handled += await step(schedule, token).catch((error: unknown) => {
        log.warn({ schedule: schedule.spec.name, reason: String(error) }, 'schedule step failed');
        return 0;
      });
    }
    return handled;
  }

  const tick = () => {
    if (stopped || running) return;
    running = tickOnce()
      .catch((error: unknown) => {
        log.warn({ reason: String(error) }, 'schedule tick failed');
        return 0;
      })
      .finally(() => {
        running = null;
      });
  };
  // tickMs 0: no timer (tests drive tickOnce themselves).
  const timer = deps.tickMs > 0 ? setInterval(tick, deps.tickMs) : undefined;
  // A long fire (a big List Machines) must not lose the lease half-way.
  const renew = setInterval(
    () => {
      if (running) lock.hold().catch(() => undefined);
    },
    Math.max(50, Math.floor(deps.lockTtlMs / 3)),
  );
  timer?.unref();
  renew.unref();
  if (timer) tick();

  return {
    tickOnce,
    /** Stops firing, waits for a step in flight and frees the lock for another process. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      clearInterval(renew);
      await running;
      await lock.release().catch(() => undefined);
    },
  };
}

export type ScheduleRunner = ReturnType<typeof startScheduleRunner>;
