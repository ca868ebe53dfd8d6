import { CronExpressionParser } from 'cron-parser';
import type { OverlapPolicy, ScheduleSpec, ScheduleState } from './schedule.js';

/** A cron expression or zone cron-parser refuses. */
export class CronError extends Error {
  override name = 'CronError';
}

type PlanSpec = Pick<ScheduleSpec, 'name' | 'cron' | 'tz' | 'startAt' | 'endAt' | 'jitterMs'>;

/** Checks `cron` in `tz`, throwing CronError with cron-parser's reason. */
export function checkCron(cron: string, tz: string): void {
  const fields = cron.trim().split(/\s+/).length;
  if (!cron.trim().startsWith('@') && (fields < 5 || fields > 6))
    throw new CronError(`Expected 5 cron fields (or 6 with seconds), got "${cron}"`);
  try {
    CronExpressionParser.parse(cron, { tz, currentDate: new Date(0) }).next();
  } catch (error) {
    throw new CronError(`Invalid cron expression "${cron}" in ${tz}: ${(error as Error).message}`);
  }
}

/**
 * The first planned time strictly after `afterMs` (cron in the schedule's zone, within
 * start/end), or null when there is none. cron-parser does the zone arithmetic: a local time
 * that does not exist (clocks forward) fires once at the first instant after it, one that
 * happens twice (clocks back) fires once, at its first occurrence.
 */
export function nextPlannedAfter(spec: PlanSpec, afterMs: number): number | null {
  const after = spec.startAt === null ? afterMs : Math.max(afterMs, spec.startAt - 1);
  const next = CronExpressionParser.parse(spec.cron, { tz: spec.tz, currentDate: new Date(after) })
    .next()
    .getTime();
  return spec.endAt !== null && next > spec.endAt ? null : next;
}

/**
 * The fire delay of one planned time: stable (every process and every restart agrees), spread
 * over `0..jitterMs` by an FNV-1a hash of the schedule name and the planned time.
 */
export function jitterFor(name: string, planned: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 0x811c9dc5;
  for (const char of `${name}@${String(planned)}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return Math.floor((hash / 0x1_0000_0000) * (jitterMs + 1));
}

export type PlanVerdict =
  | { planned: number; fireAt: number; verdict: 'fire' }
  | { planned: number; fireAt: number; verdict: 'missed'; reason: string };

/** Planned times looked at per call; a long outage is worked through over several calls. */
export const PLAN_BATCH = 1_000;

/**
 * The planned times after the cursor that are due at `now` (fire instant = planned + jitter),
 * oldest first, each with its verdict. Only the newest due time may fire, and only if found
 * within `catchupMs` of its fire instant; every other one is `missed`: a stopped fleet never
 * comes back to a burst of late runs. Nothing is due once `maxRuns` runs were started.
 */
export function planDue(
  spec: PlanSpec & Pick<ScheduleSpec, 'catchupMs' | 'maxRuns'>,
  state: Pick<ScheduleState, 'cursor' | 'runs'>,
  now: number,
): PlanVerdict[] {
  if (spec.maxRuns !== null && state.runs >= spec.maxRuns) return [];
  const due: { planned: number; fireAt: number }[] = [];
  let more = false;
  for (let p = nextPlannedAfter(spec, state.cursor); p !== null; p = nextPlannedAfter(spec, p)) {
    const fireAt = p + jitterFor(spec.name, p, spec.jitterMs);
    if (fireAt > now) break;
    if (due.length === PLAN_BATCH) {
      more = true;
      break;
    }
    due.push({ planned: p, fireAt });
  }
  return due.map(({ planned, fireAt }, index): PlanVerdict => {
    const late = now - fireAt;
    if (late > spec.catchupMs)
      return { planned, fireAt, verdict: 'missed', reason: `found ${formatMs(late)} late` };
    if (more || index < due.length - 1)
      return { planned, fireAt, verdict: 'missed', reason: 'superseded by a later planned time' };
    return { planned, fireAt, verdict: 'fire' };
  });
}

/** The next planned time still to come (after the cursor), or null when the schedule is done. */
export function nextFire(
  spec: PlanSpec & Pick<ScheduleSpec, 'maxRuns'>,
  state: Pick<ScheduleState, 'cursor' | 'runs'>,
): { planned: number; fireAt: number } | null {
  if (spec.maxRuns !== null && state.runs >= spec.maxRuns) return null;
  const planned = nextPlannedAfter(spec, state.cursor);
  return planned === null
    ? null
    : { planned, fireAt: planned + jitterFor(spec.name, planned, spec.jitterMs) };
}

/** What a fire does about the previous run: start now, wait in the one-slot buffer, or skip. */
export function overlapVerdict(
  policy: OverlapPolicy,
  previousActive: boolean,
  buffered: number | null,
): 'start' | 'buffer' | 'skip' {
  if (policy === 'allow' || !previousActive) return 'start';
  if (policy === 'buffer-one' && buffered === null) return 'buffer';
  return 'skip';
}

function formatMs(ms: number): string {
  if (ms < 120_000) return `${String(Math.round(ms / 1000))}s`;
  if (ms < 7_200_000) return `${String(Math.round(ms / 60_000))}m`;
  return `${String(Math.round(ms / 3_600_000))}h`;
}
