import type { RateWindow } from '../../src/config/duration.js';
import { maxInAnyWindow, type CallRecord } from '../../src/simulator/call-log.js';
import { theoreticalFloorMs } from './floor.js';

/** What the simulator saw of one run's scan calls: the ground truth for every efficiency figure. */
export interface ScanCallSummary {
  /** Scan calls that reached the simulator, 429s included. */
  calls: number;
  /** Calls the server counted against the budget (every answer but 429). */
  counted: number;
  throttled: number;
  /** Devices with at least one action created by these calls. */
  devicesWithAction: number;
  /** Devices for which these calls created more than one action: duplicate scans. */
  duplicateDevices: number;
  firstArrivalMs: number | null;
  lastCountedArrivalMs: number | null;
  /** First arrival to last counted arrival, real ms: the measured counterpart of the floor. */
  spanMs: number;
  /** Most counted calls seen in any sliding window of each configured length, in window order. */
  maxInWindow: number[];
  /**
   * How long the first burst (the first window's cap of counted calls) took to arrive: slots
   * granted together reach the server spread out, and a limiter counting reply times pays it.
   */
  firstBurstSpreadMs: number | null;
}

/** Summarises the scan-family calls of a run (calls at or after `sinceMs`). */
export function summariseScanCalls(
  calls: readonly CallRecord[],
  windows: readonly RateWindow[],
  sinceMs = 0,
): ScanCallSummary {
  const scans = calls.filter((c) => c.family === 'scan' && c.t >= sinceMs);
  const counted = scans.filter((c) => c.status !== 429);
  const countedTimes = counted.map((c) => c.t);
  const actionsPerDevice = new Map<string, Set<string>>();
  for (const call of scans) {
    if (!call.machineId || !call.actionId) continue;
    const set = actionsPerDevice.get(call.machineId) ?? new Set<string>();
    set.add(call.actionId);
    actionsPerDevice.set(call.machineId, set);
  }
  let duplicateDevices = 0;
  for (const set of actionsPerDevice.values()) if (set.size > 1) duplicateDevices++;
  // Loops, not Math.min(...): spreading 100,000 arguments overflows the stack.
  let first: number | null = null;
  for (const call of scans) if (first === null || call.t < first) first = call.t;
  let last: number | null = null;
  for (const t of countedTimes) if (last === null || t > last) last = t;
  return {
    calls: scans.length,
    counted: counted.length,
    throttled: scans.length - counted.length,
    devicesWithAction: actionsPerDevice.size,
    duplicateDevices,
    firstArrivalMs: first,
    lastCountedArrivalMs: last,
    spanMs: first !== null && last !== null ? last - first : 0,
    maxInWindow: windows.map((w) => maxInAnyWindow(countedTimes, w.windowMs)),
    firstBurstSpreadMs: burstSpread(countedTimes, windows[0]?.cap ?? 0),
  };
}

function burstSpread(times: readonly number[], cap: number): number | null {
  if (cap < 1 || times.length < cap) return null;
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[cap - 1]! - sorted[0]!;
}

/**
 * Share of the best possible speed: the floor for `calls` calls under `windows` divided by the
 * measured span. Windows and span are both in real (compressed) milliseconds.
 */
export function efficiency(
  calls: number,
  windows: readonly RateWindow[],
  spanMs: number,
): number | null {
  const floor = theoreticalFloorMs(calls, windows);
  return spanMs > 0 ? floor / spanMs : null;
}
