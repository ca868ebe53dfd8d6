import type { RateWindow } from './duration.js';

/**
 * The share of each budget window kept free for `urgent` campaigns (`limits.reserve`), as one
 * number per window, in the order of the (normalised, shortest-first) windows.
 *
 * A reserve window applies to the budget window of the same length. The default (`10/1m,100/1h`)
 * is written for Microsoft's windows; when the windows are compressed (tests, the demo,
 * `FLEETSCAN_RATE_LIMITS=100/600ms,1500/36s`), reserve windows whose length no budget window has
 * apply to the remaining budget windows in order, shortest first; one left over after that (a
 * budget with fewer windows, e.g. a single test window) has nothing to keep free and is ignored.
 * Throws `RangeError` naming what is wrong when a reserve would leave `normal` no slot at all.
 */
export function reserveFor(
  windows: readonly RateWindow[],
  reserve: readonly RateWindow[],
): number[] {
  const result = windows.map(() => 0);
  const unmatched: RateWindow[] = [];
  for (const entry of reserve) {
    const index = windows.findIndex((w) => w.windowMs === entry.windowMs);
    if (index >= 0 && result[index] === 0) result[index] = entry.cap;
    else unmatched.push(entry);
  }
  const free = windows.map((_, i) => i).filter((i) => result[i] === 0);
  unmatched.sort((a, b) => a.windowMs - b.windowMs);
  unmatched.slice(0, free.length).forEach((entry, k) => {
    result[free[k] as number] = entry.cap;
  });
  windows.forEach((window, i) => {
    if ((result[i] ?? 0) >= window.cap) {
      throw new RangeError(
        `limits.reserve keeps ${result[i]} of ${window.cap} calls per ${window.windowMs} ms ` +
          `for urgent campaigns: nothing would be left for normal ones; lower it`,
      );
    }
  });
  return result;
}
