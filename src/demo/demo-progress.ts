import type { Campaign } from '../campaigns/campaign.js';
import { estimateCompletion, fullWindowWait, type WindowWait } from '../campaigns/eta.js';
import { formatDuration, type RateWindow } from '../config/duration.js';
import type { CallRecord } from '../simulator/build-simulator.js';

export interface DemoProgress {
  elapsedMs: number;
  total: number;
  requested: number;
  deferred: number;
  failed: number;
  waiting: number;
  /** Scan calls the simulator saw in the last span of the first window, and that window's cap. */
  callsInWindow: number;
  window: RateWindow;
  /** Earliest end the budget allows from here (ms), or null before any device is known. */
  etaMs: number | null;
  /** A full window holding every call back, from the limiter's real slot times. */
  heldBy: WindowWait | null;
  throttled: number;
}

/** Arrivals of scan calls within the last `windowMs`, counted back from the end of the log. */
export function recentScanCalls(
  calls: readonly CallRecord[],
  now: number,
  windowMs: number,
): number {
  let n = 0;
  for (let i = calls.length - 1; i >= 0; i--) {
    const call = calls[i];
    if (!call || call.t <= now - windowMs) break;
    if (call.family === 'scan') n++;
  }
  return n;
}

/** One progress reading, from the campaign store, the limiter's usage and the simulator's log. */
export function readProgress(input: {
  campaign: Campaign | null;
  startedAt: number;
  now: number;
  windows: readonly RateWindow[];
  usedNow: readonly number[];
  calls: readonly CallRecord[];
  throttled: number;
  /** `readSlotExits`, in the limiter's window order (shortest first). */
  slotExits?: readonly (readonly number[])[];
  /** Calls per window kept for urgent campaigns (`BudgetLane.reserve`), same order. */
  reserve?: readonly number[];
}): DemoProgress {
  const counts = input.campaign?.counts;
  // A normal campaign's calls stop at cap − reserve (dispatch-n.lua); an urgent one's at the cap.
  const reserve = input.campaign?.priority === 'urgent' ? [] : (input.reserve ?? []);
  const waiting = (counts?.queued ?? 0) + (counts?.deferred ?? 0);
  const window = input.windows[0] ?? { cap: 0, windowMs: 1 };
  return {
    elapsedMs: input.now - input.startedAt,
    total: input.campaign?.total ?? 0,
    requested: counts?.requested ?? 0,
    deferred: counts?.deferred ?? 0,
    failed: counts?.failed ?? 0,
    waiting,
    callsInWindow: recentScanCalls(input.calls, input.now, window.windowMs),
    window,
    etaMs: input.campaign
      ? estimateCompletion({
          remaining: waiting,
          windows: input.windows,
          usedNow: input.usedNow,
          slotExits: input.slotExits,
          reserve,
        })
      : null,
    heldBy:
      input.slotExits && waiting > 0
        ? fullWindowWait(input.windows, input.slotExits, reserve)
        : null,
    throttled: input.throttled,
  };
}

/** `[#######.......]  48%  1,204/2,500 requested  12 deferred  31 failed  97/100 calls per 500ms  ETA ~18s  429s 0` */
export function formatProgress(p: DemoProgress, width = 24): string {
  const done = p.requested + p.failed;
  const ratio = p.total > 0 ? Math.min(1, done / p.total) : 0;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    formatDuration(p.elapsedMs).padStart(5),
    bar,
    `${n(p.requested)}/${n(p.total)} requested`,
    `${n(p.deferred)} deferred`,
    `${n(p.failed)} failed`,
    `${n(p.callsInWindow)}/${n(p.window.cap)} calls per ${formatDuration(p.window.windowMs)}`,
    ...(p.heldBy
      ? [
          p.heldBy.reserve === undefined
            ? `waiting for the ${formatDuration(p.heldBy.windowMs)} window (${formatDuration(p.heldBy.waitMs)})`
            : `waiting: urgent reserve ${n(p.heldBy.reserve)} of ${n(p.heldBy.cap)}/${formatDuration(p.heldBy.windowMs)} (${formatDuration(p.heldBy.waitMs)})`,
        ]
      : []),
    `ETA ${p.etaMs === null ? '…' : formatDuration(p.etaMs)}`,
    `429s ${n(p.throttled)}`,
  ].join('  ');
}
