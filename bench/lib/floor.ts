import type { RateWindow } from '../../src/config/duration.js';

/**
 * The earliest moment each of `n` calls can be made from an idle start when no span of
 * `windowMs` may hold more than `cap` calls, for every window at once (greedy is optimal: a
 * call made as early as allowed never delays a later one). `times[0]` is 0.
 */
export function earliestCallTimes(n: number, windows: readonly RateWindow[]): Float64Array {
  const times = new Float64Array(Math.max(0, n));
  for (let k = 1; k < times.length; k++) {
    let t = times[k - 1]!;
    for (const { cap, windowMs } of windows) {
      // Call k may share a window with at most cap - 1 earlier calls, so call k - cap must
      // have left the (half-open) window (t - windowMs, t] by then.
      if (k >= cap) t = Math.max(t, times[k - cap]! + windowMs);
    }
    times[k] = t;
  }
  return times;
}

/**
 * The best possible campaign time for `n` calls under every window, measured from the first
 * call to the last one: 400 → 3 min, 1,500 → 14 min, 5,000 → 3 h 04 min with 100/1m, 1500/1h.
 */
export function theoreticalFloorMs(n: number, windows: readonly RateWindow[]): number {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`Expected n to be a whole number ≥ 0, got ${n}`);
  for (const { cap, windowMs } of windows) {
    if (!Number.isInteger(cap) || cap < 1 || !(windowMs > 0)) {
      throw new RangeError(
        `Expected windows with cap ≥ 1 and windowMs > 0, got ${cap}/${windowMs}`,
      );
    }
  }
  if (n <= 1) return 0;
  return closedFormFloorMs(n, windows) ?? earliestCallTimes(n, windows)[n - 1]!;
}

/**
 * For nested windows (each cap and length a multiple of the previous one), the greedy schedule
 * is whole bursts, so the floor has a closed form; this keeps 1,000,000-call floors cheap.
 */
function closedFormFloorMs(n: number, windows: readonly RateWindow[]): number | undefined {
  const sorted = [...windows].sort((a, b) => a.windowMs - b.windowMs);
  for (let i = 1; i < sorted.length; i++) {
    const inner = sorted[i - 1]!;
    const outer = sorted[i]!;
    if (outer.cap % inner.cap !== 0 || outer.windowMs < (outer.cap / inner.cap) * inner.windowMs) {
      return undefined;
    }
  }
  // Call k (0-based) falls at sum over windows of floor(k / cap_i) steps, each step waiting out
  // the rest of its window after the inner bursts it contains.
  let t = 0;
  let rest = n - 1;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const { cap, windowMs } = sorted[i]!;
    t += Math.floor(rest / cap) * windowMs;
    rest %= cap;
  }
  return t;
}
