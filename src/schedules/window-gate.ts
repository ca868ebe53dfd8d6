import type { DispatchWindow } from '../campaigns/campaign.js';
import { nextOpening } from './dispatch-window.js';
import type { ScheduleClock } from './schedule-clock.js';

/**
 * Real milliseconds a campaign's device must wait before it may be dispatched: 0 inside the
 * window (or without one), else until the window next opens (at least 1 ms, so a job delayed to
 * the opening instant is not picked up a hair early and delayed again for a whole day).
 */
export function windowWaitMs(
  window: DispatchWindow | null | undefined,
  clock: ScheduleClock,
): number {
  if (!window) return 0;
  const now = clock.now();
  const opening = nextOpening(window, now);
  return opening <= now ? 0 : Math.max(1, Math.ceil(clock.realDelay(opening - now)));
}
