import type { RateWindow } from '../config/duration.js';

export interface CompletionInput {
  /** Calls still to make: queued + deferred devices. */
  remaining: number;
  /** The budget's windows (`limits.windows`), each a cap per sliding span. */
  windows: readonly RateWindow[];
  /** Slots counted in each window right now (`limiter.usage('scan')`), same order as `windows`. */
  usedNow: readonly number[];
  /** Left of a pause after a 429 (ms); nothing is called before it ends. */
  pausedForMs?: number | undefined;
  /**
   * When each slot counted in each window leaves it (ms from now, `readSlotExits`), same order
   * as `windows`. Given, the replay starts from the real slot times; otherwise the `usedNow`
   * slots are assumed evenly spread over their window.
   */
  slotExits?: readonly (readonly number[])[] | undefined;
  /**
   * Calls per window kept for urgent campaigns (`BudgetLane.reserve`), same order as `windows`:
   * a normal or background campaign may only fill a window up to cap − reserve. Absent or zeros
   * for an urgent campaign.
   */
  reserve?: readonly number[] | undefined;
}

/** A full window everything waits for, and how long until it frees a slot. */
export interface WindowWait {
  windowMs: number;
  waitMs: number;
  /** The window's cap. */
  cap: number;
  /** Set when the window is full only because these last calls are kept for urgent campaigns. */
  reserve?: number;
}

/**
 * The window that holds the next call back, from the real slot times: a window with `cap` or
 * more slots counted frees room when the oldest surplus slot leaves. The longest such wait
 * wins (an hour window that is full outlasts a minute window that is full). Null when a call
 * could go now. With `reserve` (a normal or background campaign) a window is full at
 * cap − reserve, as dispatch-n.lua counts it, and the wait names the reserve.
 */
export function fullWindowWait(
  windows: readonly RateWindow[],
  slotExits: readonly (readonly number[])[],
  reserve: readonly number[] = [],
): WindowWait | null {
  let wait: WindowWait | null = null;
  windows.forEach((window, i) => {
    const kept = Math.max(0, Math.min(window.cap, reserve[i] ?? 0));
    const room = window.cap - kept;
    const exits = [...(slotExits[i] ?? [])].sort((a, b) => a - b);
    if (exits.length < room) return;
    const waitMs = exits[exits.length - room] ?? 0;
    if (waitMs > 0 && (wait === null || waitMs > wait.waitMs)) {
      // Named only where the reserve makes the difference: a window full to its cap is just full.
      const byReserve = kept > 0 && exits.length < window.cap;
      wait = {
        windowMs: window.windowMs,
        waitMs,
        cap: window.cap,
        ...(byReserve ? { reserve: kept } : {}),
      };
    }
  });
  return wait;
}

/**
 * The budget's bound on a campaign's end, pushed back to when its last waiting device is due: a
 * busy device is not called before its retry time however much room the budget has.
 */
export function etaAfterRetries(etaMs: number, lastDueAt: number | null, now: number): number {
  return lastDueAt === null ? etaMs : Math.max(etaMs, lastDueAt - now);
}

/** Expiry times of the slots counted in one window, oldest first, consumed from `head`. */
interface WindowLog {
  cap: number;
  windowMs: number;
  expires: number[];
  counts: number[];
  head: number;
  inWindow: number;
}

/**
 * Milliseconds from now until the last of `remaining` calls can be made under every window at
 * once: the budget's bound on a campaign's end, assuming workers keep up and each device needs
 * one more call (busy devices need more, so this is the earliest end, not a promise).
 *
 * It replays the sliding log: at each moment as many calls as every window has room for, then
 * on to the moment a full window frees its oldest slot. With `slotExits` the slots already
 * taken leave when the limiter's logs say; with counts only they are assumed evenly spread over
 * their window (the k-th of `used` leaves after k/used of the window), which can be far off:
 * 1,500 calls made in the first 15 minutes of an hour all leave at its end. Windows interact: 3,000 calls under 100/min and 1,500/h take
 * 74 minutes (1,500 in the first 15, then 100 a minute from minute 60), which neither window
 * alone would say.
 */
export function estimateCompletion(input: CompletionInput): number {
  let left = Math.max(0, Math.ceil(input.remaining));
  let t = Math.max(0, input.pausedForMs ?? 0);
  if (left === 0) return 0;
  const logs: WindowLog[] = input.windows.map((w, i) => {
    const real = input.slotExits?.[i];
    const cap = w.cap - Math.max(0, Math.min(w.cap - 1, input.reserve?.[i] ?? 0));
    const used = real
      ? real.length
      : Math.min(w.cap, Math.max(0, Math.round(input.usedNow[i] ?? 0)));
    const expires = real
      ? [...real].sort((a, b) => a - b)
      : Array.from({ length: used }, (_, k) => (w.windowMs * (k + 1)) / used);
    return {
      cap,
      windowMs: w.windowMs,
      expires,
      counts: expires.map(() => 1),
      head: 0,
      inWindow: used,
    };
  });
  if (logs.length === 0) return t;

  for (;;) {
    let allowed = Infinity;
    for (const log of logs) {
      while (log.head < log.expires.length && (log.expires[log.head] ?? Infinity) <= t) {
        log.inWindow -= log.counts[log.head] ?? 0;
        log.head += 1;
      }
      allowed = Math.min(allowed, log.cap - log.inWindow);
    }
    if (allowed > 0) {
      const calls = Math.min(allowed, left);
      left -= calls;
      if (left === 0) return t;
      for (const log of logs) {
        log.expires.push(t + log.windowMs);
        log.counts.push(calls);
        log.inWindow += calls;
      }
    }
    // Every full window must free a slot; the last of those moments is the next chance to call.
    let next = t;
    for (const log of logs) {
      if (log.inWindow >= log.cap) next = Math.max(next, log.expires[log.head] ?? t);
    }
    t = next;
  }
}
