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
  /**
   * Median delay between the moment a slot could be used again (the k-th reply, by reply time,
   * plus the first window) and the arrival of call k + cap: guard, the client's view of the
   * reply, the limiter's wake-up and the next request's way to the server. Lost on every cycle.
   */
  medianReuseDelayMs: number | null;
  /** Longest silence between two consecutive counted arrivals: stalls show up here. */
  longestGapMs: number | null;
  /**
   * Longest silence beyond what the windows impose (issue 10: ≤ 50 ms real): for each counted
   * call, its send time (arrival less the simulated request leg) less the later of the
   * previous send and the moment every window let it go (the reply of the call `cap` places
   * earlier, plus the window: a client cannot see arrivals, and the server counts them).
   */
  longestStallMs: number | null;
  /** `replyStampedSpanMs` of these calls: the span of a client with no overhead, real ms. */
  noOverheadSpanMs: number;
}

/**
 * Summarises the scan-family calls of a run (calls at or after `sinceMs`); `guardMs` is the
 * client's guard, for the no-overhead span.
 */
export function summariseScanCalls(
  calls: readonly CallRecord[],
  windows: readonly RateWindow[],
  sinceMs = 0,
  guardMs = 0,
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
    ...cycleFigures(
      countedTimes,
      counted.map((c) => c.t + c.durationMs),
      windows[0],
    ),
    longestStallMs: longestStall(counted, windows),
    noOverheadSpanMs: replyStampedSpanMs(counted, windows, guardMs),
  };
}

/** See `ScanCallSummary.longestStallMs`. */
function longestStall(
  counted: readonly CallRecord[],
  windows: readonly RateWindow[],
): number | null {
  const calls = [...counted].sort((a, b) => a.t - b.t);
  const replies = calls.map((c) => c.t + c.durationMs).sort((a, b) => a - b);
  let longest: number | null = null;
  let lastSend = -Infinity;
  calls.forEach((call, i) => {
    const send = call.t - (call.requestLegMs ?? 0);
    let opening = lastSend;
    for (const w of windows) {
      const freed = i >= w.cap ? replies[i - w.cap] : undefined;
      if (freed !== undefined) opening = Math.max(opening, freed + w.windowMs);
    }
    if (i > 0) longest = Math.max(longest ?? 0, send - opening);
    lastSend = Math.max(lastSend, send);
  });
  return longest;
}

function cycleFigures(
  arrivals: readonly number[],
  replies: readonly number[],
  first: RateWindow | undefined,
): Pick<ScanCallSummary, 'firstBurstSpreadMs' | 'medianReuseDelayMs' | 'longestGapMs'> {
  const byTime = (a: number, b: number) => a - b;
  const sorted = [...arrivals].sort(byTime);
  let longestGapMs: number | null = null;
  for (let i = 1; i < sorted.length; i++) {
    longestGapMs = Math.max(longestGapMs ?? 0, sorted[i]! - sorted[i - 1]!);
  }
  if (!first || sorted.length < first.cap) {
    return { firstBurstSpreadMs: null, medianReuseDelayMs: null, longestGapMs };
  }
  const sortedReplies = [...replies].sort(byTime);
  const delays: number[] = [];
  for (let k = 0; k + first.cap < sorted.length; k++) {
    delays.push(sorted[k + first.cap]! - (sortedReplies[k]! + first.windowMs));
  }
  delays.sort(byTime);
  return {
    firstBurstSpreadMs: sorted[first.cap - 1]! - sorted[0]!,
    medianReuseDelayMs: delays.length > 0 ? delays[Math.floor(delays.length / 2)]! : null,
    longestGapMs,
  };
}

/**
 * The span a client with no overhead at all would take for these same calls, with their
 * measured latencies (request leg, then arrival to reply), in arrival order: the first `cap`
 * leave at once, and each later one the moment every window has room by reply times (a slot
 * is used again one window + `guardMs` after a reply, and calls in flight hold theirs), which
 * is the most any client can do that never risks a 429 (it cannot see arrivals). Floor ÷ this
 * span is the bound of floor/span on this server's latencies; the rest is the client's cost.
 */
export function replyStampedSpanMs(
  counted: readonly CallRecord[],
  windows: readonly RateWindow[],
  guardMs: number,
): number {
  const calls = [...counted].sort((a, b) => a.t - b.t);
  const replies: number[] = []; // sorted
  let firstArrival = Infinity;
  let lastArrival = -Infinity;
  let send = 0;
  for (const [k, call] of calls.entries()) {
    for (const w of windows) {
      // Room for one more: all but cap - 1 of the earlier calls replied a window + guard ago.
      const freed = k >= w.cap ? replies[k - w.cap] : undefined;
      if (freed !== undefined) send = Math.max(send, freed + w.windowMs + guardMs);
    }
    const arrival = send + (call.requestLegMs ?? 0);
    firstArrival = Math.min(firstArrival, arrival);
    lastArrival = Math.max(lastArrival, arrival);
    insertSorted(replies, arrival + call.durationMs);
  }
  return calls.length > 0 ? lastArrival - firstArrival : 0;
}

function insertSorted(sorted: number[], value: number): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, value);
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
