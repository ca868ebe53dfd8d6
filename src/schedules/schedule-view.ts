import { describeTargetsOf } from './describe-targets.js';
import { formatWindow } from './dispatch-window.js';
import { formatLocal } from './local-time.js';
import { jitterFor, nextFire, nextPlannedAfter } from './plan-fires.js';
import type { FireRecord, Schedule } from './schedule.js';

/** An instant as both people and machines read it. */
export interface Instant {
  ms: number;
  utc: string;
  /** `2026-03-29 03:30 Europe/Berlin` */
  local: string;
}

export function instant(ms: number, tz: string): Instant {
  return { ms, utc: new Date(ms).toISOString(), local: `${formatLocal(ms, tz)} ${tz}` };
}

/** One schedule for `list`, `show`, the dashboard and metrics. */
export interface ScheduleView {
  name: string;
  cron: string;
  tz: string;
  targets: string;
  window: string | null;
  overlap: string;
  paused: boolean;
  note: string | null;
  runs: number;
  maxRuns: number | null;
  /** Null once the schedule has ended (end date, max runs). */
  nextFire: Instant | null;
  lastRun: FireRecord | null;
  bufferedFire: Instant | null;
  /** A run claimed and not yet recorded: being started, or left by a worker that died. */
  claimedRun: { planned: Instant; campaignId: string } | null;
}

export function scheduleView(schedule: Schedule, lastRun: FireRecord | null): ScheduleView {
  const { spec, state } = schedule;
  const next = nextFire(spec, state);
  return {
    name: spec.name,
    cron: spec.cron,
    tz: spec.tz,
    targets: describeTargetsOf(spec.targets),
    window: spec.window ? formatWindow(spec.window) : null,
    overlap: spec.overlap,
    paused: state.paused,
    note: state.note,
    runs: state.runs,
    maxRuns: spec.maxRuns,
    nextFire: next ? instant(next.fireAt, spec.tz) : null,
    lastRun,
    bufferedFire: state.buffered === null ? null : instant(state.buffered, spec.tz),
    claimedRun:
      state.pending === null
        ? null
        : {
            planned: instant(state.pending.planned, spec.tz),
            campaignId: state.pending.campaignId,
          },
  };
}

/**
 * The next `n` fires after `after` (for `show`), ignoring runs already counted: each planned time
 * plus its jitter, the moment it really fires, as `nextFire` says it (and `schedule add` echoes).
 */
export function upcoming(schedule: Schedule, after: number, n: number): Instant[] {
  const out: Instant[] = [];
  const { spec } = schedule;
  for (let p = nextPlannedAfter(spec, after); p !== null && out.length < n;) {
    out.push(instant(p + jitterFor(spec.name, p, spec.jitterMs), spec.tz));
    p = nextPlannedAfter(spec, p);
  }
  return out;
}
