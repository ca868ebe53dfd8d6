import { parseDuration } from '../config/duration.js';
import type { SlidingWindowThrottle } from './throttle.js';

/** One step of another consumer's schedule: `perMinute` calls per minute for `forMs` (API time). */
export interface ConsumerStep {
  perMinute: number;
  /** How long the step lasts, API time; absent on the last step: until the simulator closes. */
  forMs?: number;
}

/**
 * Another integration on the same app + tenant (a SIEM playbook, a SOAR connector): its calls
 * are counted in the same sliding windows of one budget, but never reach the call log, the
 * stats or any client, so nothing fleetscan can see tells it they exist (issue 17).
 */
export interface OtherConsumerOptions {
  schedule: readonly ConsumerStep[];
  /** Which budget it spends: an endpoint family (default `scan`); ignored with a shared budget. */
  family?: string;
  /** When the schedule's time 0 is: the simulator's start (default) or the first API call. */
  startsAt?: 'simulator' | 'first-call';
}

export interface OtherConsumerStats {
  /** Calls the server counted for it. */
  counted: number;
  /** Calls of it the server refused (no room left in a window). */
  throttled: number;
}

/** `30/1m:8m,0/1m`: 30 per minute for 8 minutes, then none; undefined when not that shape. */
export function parseConsumerSchedule(text: string): ConsumerStep[] | undefined {
  const steps: ConsumerStep[] = [];
  const parts = text.split(',').map((part) => part.trim());
  for (const [i, part] of parts.entries()) {
    const match = /^(\d+(?:\.\d+)?)\s*\/\s*([^:]+?)\s*(?::\s*(.+))?$/.exec(part);
    if (!match) return undefined;
    const per = parseDuration(match[2] ?? '');
    const calls = Number(match[1]);
    if (per === undefined || per <= 0 || !Number.isFinite(calls)) return undefined;
    const step: ConsumerStep = { perMinute: (calls * 60_000) / per };
    if (match[3] !== undefined) {
      const forMs = parseDuration(match[3]);
      if (forMs === undefined || forMs <= 0) return undefined;
      step.forMs = forMs;
    } else if (i < parts.length - 1) {
      return undefined; // only the last step may last forever
    }
    steps.push(step);
  }
  return steps.length > 0 ? steps : undefined;
}

/** Checks a schedule; throws naming what is wrong (simulator options are checked up front). */
export function checkConsumerSchedule(schedule: readonly ConsumerStep[]): void {
  if (schedule.length === 0) throw new Error('`otherConsumer.schedule` needs at least one step');
  schedule.forEach((step, i) => {
    if (!(step.perMinute >= 0) || !Number.isFinite(step.perMinute))
      throw new Error(`\`otherConsumer.schedule[${i}].perMinute\` must be a number ≥ 0`);
    if (step.forMs !== undefined && !(step.forMs > 0))
      throw new Error(`\`otherConsumer.schedule[${i}].forMs\` must be > 0`);
  });
}

/**
 * Runs the schedule on real timers, time compressed by `timeScale` like the windows: calls
 * evenly spaced within each step, each one counted on `key` if the windows have room.
 */
export function startOtherConsumer(deps: {
  schedule: readonly ConsumerStep[];
  timeScale: number;
  throttle: SlidingWindowThrottle;
  key: string;
  now: () => number;
}): { start(): void; stats(): OtherConsumerStats; stop(): void } {
  const { schedule, timeScale, throttle, key, now } = deps;
  const stats: OtherConsumerStats = { counted: 0, throttled: 0 };
  let start: number | undefined;
  let stopped = false;
  // Step boundaries in real ms since start.
  const bounds: number[] = [];
  let edge = 0;
  for (const step of schedule) {
    edge += step.forMs === undefined ? Infinity : step.forMs / timeScale;
    bounds.push(edge);
  }
  let timer: NodeJS.Timeout | undefined;
  let stepIndex = 0;
  let stepStart = 0;
  let sent = 0;

  /** Sends the current step's calls that fell due before `until` (real ms since start). */
  const sendDue = (until: number) => {
    const step = schedule[stepIndex];
    if (!step || step.perMinute <= 0) return;
    const intervalMs = 60_000 / step.perMinute / timeScale;
    const end = Math.min(until, bounds[stepIndex] ?? Infinity);
    // Catches up calls that were due: a busy event loop delays timers, not the consumer's plan.
    while (
      stepStart + sent * intervalMs <= end &&
      stepStart + sent * intervalMs < (bounds[stepIndex] ?? Infinity)
    ) {
      if (throttle.tryAcquire(key, now()).allowed) stats.counted++;
      else stats.throttled++;
      sent++;
    }
  };

  const tick = () => {
    if (start === undefined || stopped) return;
    const elapsed = now() - start;
    sendDue(elapsed);
    while (stepIndex < schedule.length - 1 && elapsed >= (bounds[stepIndex] ?? Infinity)) {
      stepStart = bounds[stepIndex] ?? 0;
      stepIndex++;
      sent = 0;
      sendDue(elapsed);
    }
    const step = schedule[stepIndex];
    if (!step) return;
    const intervalMs = step.perMinute > 0 ? 60_000 / step.perMinute / timeScale : Infinity;
    const nextDue = Math.min(stepStart + sent * intervalMs, bounds[stepIndex] ?? Infinity);
    if (!Number.isFinite(nextDue)) return; // a last step at 0 per minute: nothing more to do
    timer = setTimeout(tick, Math.max(0, nextDue - elapsed));
    timer.unref();
  };

  return {
    start: () => {
      if (start !== undefined || stopped) return;
      start = now();
      tick();
    },
    stats: () => ({ ...stats }),
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
