import type { RateWindow } from '../config/duration.js';
import type { CallGate, CallPermit } from '../defender/call-gate.js';

/**
 * The tracker's windows: `share` of each budget window, at least one call. With the default
 * 100/1m,1500/1h and 10 % that is 10/1m,150/1h.
 */
export function shareWindows(windows: readonly RateWindow[], share: number): RateWindow[] {
  return windows.map((w) => ({
    cap: Math.max(1, Math.floor(w.cap * share)),
    windowMs: w.windowMs,
  }));
}

/**
 * A gate that takes a slot from `share` (the tracker's own, smaller budget) and then from `main`
 * (the machineActions budget everyone spends): the tracker never uses more than its share, and
 * its calls still count against the whole. Both slots end together.
 */
export function shareGate(main: CallGate, share: CallGate): CallGate {
  // The two permits behind each permit handed out: its replies are both budgets' to learn from
  // (the main one's adaptive caps; the share's breaker probe).
  const parts = new WeakMap<CallPermit, { own: CallPermit; whole: CallPermit }>();
  return {
    async acquire(family, signal) {
      const own = await share.acquire(family, signal);
      let whole;
      try {
        whole = await main.acquire(family, signal);
      } catch (error) {
        await own.release();
        throw error;
      }
      const permit: CallPermit = {
        settle: async (repliedMsAgo) => {
          await Promise.all([own.settle(repliedMsAgo), whole.settle(repliedMsAgo)]);
        },
        release: async () => {
          await Promise.all([own.release(), whole.release()]);
        },
      };
      parts.set(permit, { own, whole });
      return permit;
    },
    async throttle(family, ms) {
      await main.throttle(family, ms);
    },
    async observe(family, permit, status) {
      const part = parts.get(permit);
      if (!part) return;
      await Promise.all([
        share.observe?.(family, part.own, status),
        main.observe?.(family, part.whole, status),
      ]);
    },
  };
}
