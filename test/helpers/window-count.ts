/**
 * Counting calls in sliding windows from a call log, independent of any limiter's own counters.
 * A span is half-open, [t, t + windowMs): a window of 600 ms holds times t … t + 599.
 */

/** The most of `sortedTimes` (ascending) that fall inside any one span of `windowMs`. */
export function maxInAnyWindow(sortedTimes: readonly number[], windowMs: number): number {
  let best = 0;
  let first = 0;
  for (let last = 0; last < sortedTimes.length; last++) {
    const end = sortedTimes[last]!;
    while (sortedTimes[first]! <= end - windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

/** A call the server may have counted at any moment from `start` (slot granted) to `end` (reply). */
export interface CallInterval {
  start: number;
  end: number;
}

/**
 * The most calls that a server counting on arrival could see inside one span of `windowMs`,
 * when each call may arrive anywhere in its interval: for the worst span [t, t + windowMs), the
 * calls with `end ≥ t` and `start < t + windowMs`. The worst t is always some call's `end`.
 */
export function maxOverlappingInAnyWindow(
  calls: readonly CallInterval[],
  windowMs: number,
): number {
  const ends = calls.map((call) => call.end).sort((a, b) => a - b);
  const starts = calls.map((call) => call.start).sort((a, b) => a - b);
  let best = 0;
  for (const t of ends) {
    // Calls ending at or after t, minus those starting after the span (they end after it too).
    const stillOpen = ends.length - firstAtLeast(ends, t);
    const notYetStarted = starts.length - firstAtLeast(starts, t + windowMs);
    best = Math.max(best, stillOpen - notYetStarted);
  }
  return best;
}

/** Index of the first value ≥ `min` in an ascending array (its length when there is none). */
function firstAtLeast(sorted: readonly number[], min: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < min) low = middle + 1;
    else high = middle;
  }
  return low;
}
