/** One limit: at most `cap` calls in any `windowMs` span. */
export interface RateWindow {
  cap: number;
  windowMs: number;
}

/** A refusal names the window that refused (the one that frees up last) and when it frees up. */
export type ThrottleDecision =
  { allowed: true } | { allowed: false; retryAfterMs: number; window: RateWindow };

/**
 * The real 429 message, naming the window that tripped in API time (scaled windows back to real):
 * "API calls quota exceeded! maximum allowed 1500 per 01:00:00" (MicrosoftDocs/microsoft-365-docs
 * issue 4616).
 */
export function quotaMessage(window: RateWindow, timeScale: number): string {
  const seconds = Math.round((window.windowMs * timeScale) / 1000);
  const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return `API calls quota exceeded! maximum allowed ${String(window.cap)} per ${hh}:${mm}:${ss}`;
}

/**
 * Sliding-window counters keyed by budget (app + tenant + family), counted on arrival.
 * A call is counted only when every window has room; a rejected call leaves no trace, as the
 * real API's 429 "counts nothing else". Windows include both ends: a call exactly `windowMs`
 * after another still shares its window (stricter than any client can be hurt by).
 */
export class SlidingWindowThrottle {
  readonly windows: readonly RateWindow[];
  private readonly logs = new Map<string, number[]>();

  constructor(windows: readonly RateWindow[]) {
    if (windows.length === 0) throw new Error('SlidingWindowThrottle needs at least one window');
    for (const w of windows) {
      if (!(w.cap >= 1) || !(w.windowMs > 0)) {
        throw new Error(`Invalid rate window ${String(w.cap)}/${String(w.windowMs)}ms`);
      }
    }
    this.windows = windows;
  }

  /** Counts the call if it fits in every window, else says when the oldest blocking call leaves. */
  tryAcquire(key: string, nowMs: number): ThrottleDecision {
    const log = this.logs.get(key) ?? [];
    const longest = Math.max(...this.windows.map((w) => w.windowMs));
    // Arrival times are appended in order, so stale entries sit at the front.
    let stale = 0;
    while (stale < log.length && (log[stale] ?? 0) < nowMs - longest) stale++;
    if (stale > 0) log.splice(0, stale);
    let retryAfterMs = 0;
    let tripped: RateWindow | undefined;
    for (const w of this.windows) {
      const inWindow = countSince(log, nowMs - w.windowMs);
      if (inWindow >= w.cap) {
        // The call that must leave before one more fits: the cap-th newest.
        const blocking = log[log.length - w.cap] ?? nowMs;
        const wait = blocking + w.windowMs + 1 - nowMs;
        if (wait > retryAfterMs) {
          retryAfterMs = wait;
          tripped = w;
        }
      }
    }
    if (tripped) return { allowed: false, retryAfterMs, window: tripped };
    // Keep the log sorted even if an injected clock steps back.
    log.splice(log.length - countSince(log, nowMs + 1), 0, nowMs);
    this.logs.set(key, log);
    return { allowed: true };
  }

  /** Calls counted in the window ending at `nowMs`, per window, for one key. */
  usage(key: string, nowMs: number): number[] {
    const log = this.logs.get(key) ?? [];
    return this.windows.map((w) => countSince(log, nowMs - w.windowMs));
  }
}

/** Entries ≥ `fromMs` in an ascending array (binary search). */
function countSince(sorted: readonly number[], fromMs: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < fromMs) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}
