import type { Redis } from '../shared/redis.js';
import { scheduledCampaignId } from '../campaigns/campaign-id.js';
import type { Logger } from '../shared/logger.js';
import type { AuditLog } from '../audit/audit-log.js';
import { recordAudit, scheduleActor } from '../audit/record-audit.js';
import { createFiringLock } from './firing-lock.js';
import { fireSchedule, isRunActive, type FireDeps } from './fire-schedule.js';
import { overlapVerdict, planDue } from './plan-fires.js';
import type { FireRecord, PendingFire, Schedule } from './schedule.js';
import type { ScheduleClock } from './schedule-clock.js';
import { encodePending, type ScheduleStore } from './schedule-store.js';

/** Fault points for tests; production never sets them. */
export interface ScheduleRunnerHooks {
  /** After a run was claimed (cursor moved, `pending` written), before its campaign exists. */
  afterClaim?: (schedule: string, pending: PendingFire) => Promise<void> | void;
}

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
  hooks?: ScheduleRunnerHooks | undefined;
  /** Each run (started or failed to resolve) is audited here as `schedule:<name>`. */
  audit?: AuditLog | undefined;
}

/**
 * The firing loop. Every worker process runs one; the firing lock lets one at a time act, and
 * every step moves a schedule's cursor with a fenced compare-and-set before anything is started,
 * so each planned time is handled once however many processes run, restart or stall. A run is
 * claimed in that same atomic step together with its campaign id (derived from the schedule and
 * the planned time), and recorded and unclaimed in one more: a process that dies in between
 * leaves the claim, and the next holder creates or completes that same campaign. Each planned
 * time therefore runs exactly once, into one campaign, with one history entry.
 */
export function startScheduleRunner(deps: ScheduleRunnerDeps) {
  const lock = createFiringLock(deps.redis, deps.prefix, deps.lockTtlMs);
  const log = deps.log;
  let stopped = false;
  let running: Promise<number> | null = null;

  /** Creates (or completes) the claimed run's campaign and records it, once. */
  async function complete(schedule: Schedule, pending: PendingFire, resumed: boolean) {
    const { name } = schedule.spec;
    const entry = await fireSchedule(deps.fire, schedule.spec, {
      planned: pending.planned,
      actual: pending.actual,
      manual: false,
      createdBy: `schedule:${name} (${deps.identity})`,
      campaignId: pending.campaignId,
    });
    const note = `claimed at ${new Date(pending.actual).toISOString()}; completed by ${deps.identity} after the claiming step stopped`;
    const recorded = await deps.store.completeFire(
      name,
      pending,
      resumed && entry.reason === null ? { ...entry, reason: note } : entry,
    );
    if (!recorded) {
      log.info(
        { schedule: name, planned: pending.planned, campaignId: pending.campaignId },
        'run already recorded by another process',
      );
      return;
    }
    if (deps.audit) {
      const sink = {
        log: deps.audit,
        actor: { ...scheduleActor(name), from: deps.identity },
        now: () => deps.fire.realNow?.() ?? Date.now(),
        onUnrecorded: (error: unknown) => {
          log.warn({ schedule: name, reason: String(error) }, 'audit record not written');
        },
      };
      await recordAudit(sink, {
        action: 'schedule.fire',
        target: pending.campaignId,
        outcome: entry.outcome === 'started' ? 'ok' : 'failed',
        detail:
          entry.outcome === 'started'
            ? `started, ${String(entry.counts?.queued ?? 0)} devices queued (planned ${new Date(pending.planned).toISOString()})`
            : `${entry.outcome}: ${entry.reason ?? ''}`,
      });
    }
  }

  /** Handles what is due for one schedule; returns how many planned times were handled. */
  async function step(schedule: Schedule, token: string): Promise<number> {
    const { spec, state } = schedule;
    if (state.pending !== null) {
      // Claimed by a process that stopped (or a step that failed) before recording it.
      await complete(schedule, state.pending, true);
      return 1;
    }
    const fence = { token, version: state.version };
    const now = deps.clock.now();
    const claim = (planned: number): PendingFire => ({
      planned,
      actual: now,
      campaignId: scheduledCampaignId(spec.name, planned),
    });
    const started = async (pending: PendingFire) => {
      await deps.hooks?.afterClaim?.(spec.name, pending);
      await complete(schedule, pending, false);
    };
    const previousActive = async () =>
      state.lastCampaignId !== null &&
      isRunActive(await deps.fire.campaigns.getCampaign(state.lastCampaignId));

    if (state.buffered !== null && !(await previousActive())) {
      const pending = claim(state.buffered);
      const fields = { buffered: '', pending: encodePending(pending) };
      if ((await deps.store.advance(spec.name, fence, fields)) !== 'done') return 0;
      await started(pending);
      return 1;
    }

    const verdicts = planDue(spec, state, now);
    const last = verdicts.at(-1);
    if (!last) return 0;
    const action =
      last.verdict === 'fire'
        ? overlapVerdict(spec.overlap, await previousActive(), state.buffered)
        : null;
    const pending = action === 'start' ? claim(last.planned) : null;
    const history: FireRecord[] = [];
    for (const v of verdicts) {
      if (v.verdict !== 'missed') continue;
      history.push({
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
      history.push({
        planned: last.planned,
        actual: now,
        outcome: 'skipped-overlap',
        reason: `run ${state.lastCampaignId ?? '?'} still has queued or deferred devices`,
        campaignId: state.lastCampaignId,
        counts: null,
        manual: false,
      });
    }
    const claimed = await deps.store.advance(
      spec.name,
      fence,
      {
        cursor: String(last.planned),
        ...(action === 'buffer' ? { buffered: String(last.planned) } : {}),
        ...(pending ? { pending: encodePending(pending) } : {}),
      },
      history,
    );
    if (claimed !== 'done') return 0;
    if (pending) await started(pending);
    if (action === 'buffer') {
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
      // A run claimed before the pause is still completed: it was decided already.
      if (schedule.state.paused && schedule.state.pending === null) continue;
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
