/**
 * The time schedules and dispatch windows are read in. In production it is the wall clock; a
 * demo or a test can compress it (`schedules.timeScale`): scheduled time runs `scale` times as
 * fast as real time from `origin`, so every process that shares the origin agrees on it.
 */
export interface ScheduleClock {
  /** Scheduled time now (ms since epoch). */
  now(): number;
  /** Real milliseconds until `ms` of scheduled time have passed. */
  realDelay(ms: number): number;
  readonly scale: number;
}

export function createScheduleClock(
  options: { scale?: number; origin?: number | null; realNow?: () => number } = {},
): ScheduleClock {
  const scale = options.scale ?? 1;
  const realNow = options.realNow ?? Date.now;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('time scale must be > 0');
  const origin = options.origin ?? null;
  if (scale !== 1 && origin === null)
    throw new RangeError('a compressed schedule clock needs an origin shared by every process');
  return {
    scale,
    now: () => (scale === 1 || origin === null ? realNow() : origin + (realNow() - origin) * scale),
    realDelay: (ms) => Math.max(0, ms / scale),
  };
}
