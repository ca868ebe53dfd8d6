import { describe, expect, it } from 'vitest';
import {
  efficiency,
  replyStampedSpanMs,
  summariseScanCalls,
} from '../../../bench/lib/call-analysis.js';
import type { CallRecord } from '../../../src/simulator/call-log.js';

const windows = [
  { cap: 2, windowMs: 100 },
  { cap: 5, windowMs: 1_000 },
];

function call(
  t: number,
  status: number,
  machineId: string,
  actionId: string | null = null,
): CallRecord {
  return {
    t,
    method: 'POST',
    path: `/api/machines/${machineId}/runAntiVirusScan`,
    family: 'scan',
    status,
    code: null,
    machineId,
    actionId,
    existingActionId: null,
    lost: false,
    appId: 'app',
    durationMs: 1,
  };
}

describe('summariseScanCalls', () => {
  it('counts 429s apart and measures the span to the last counted arrival', () => {
    const summary = summariseScanCalls(
      [
        call(1_000, 201, 'a', 'x1'),
        call(1_010, 201, 'b', 'x2'),
        call(1_020, 429, 'c'),
        call(1_120, 201, 'c', 'x3'),
        call(1_300, 429, 'd'),
      ],
      windows,
    );
    expect(summary).toMatchObject({
      calls: 5,
      counted: 3,
      throttled: 2,
      devicesWithAction: 3,
      duplicateDevices: 0,
      firstArrivalMs: 1_000,
      lastCountedArrivalMs: 1_120,
      spanMs: 120,
      maxInWindow: [2, 3],
      firstBurstSpreadMs: 10,
      medianReuseDelayMs: 19,
      longestGapMs: 110,
    });
  });

  it('counts as a stall only the silence beyond the reply of the call a cap earlier plus the window', () => {
    const calls = [call(1_000, 201, 'a'), call(1_010, 201, 'b'), call(1_120, 201, 'c')];
    // With 2 per 100 ms, call c may go at a's reply (1,001) + 100 ms; it was sent at 1,120.
    expect(summariseScanCalls(calls, windows).longestStallMs).toBe(19);
    // Its arrival includes 5 ms of simulated network: the send was at 1,115.
    const late = [...calls.slice(0, 2), { ...calls[2]!, requestLegMs: 5 }];
    expect(summariseScanCalls(late, windows).longestStallMs).toBe(14);
  });

  it('finds devices that got two actions and ignores other families and earlier calls', () => {
    const other: CallRecord = { ...call(1_005, 200, 'a'), family: 'machineActions' };
    const summary = summariseScanCalls(
      [call(10, 201, 'z', 'old'), call(1_000, 201, 'a', 'x1'), other, call(1_500, 201, 'a', 'x2')],
      windows,
      1_000,
    );
    expect(summary.calls).toBe(2);
    expect(summary.duplicateDevices).toBe(1);
    expect(summary.firstBurstSpreadMs).toBe(500);
  });

  it('reports an empty log as no span', () => {
    const summary = summariseScanCalls([], windows);
    expect(summary).toMatchObject({
      calls: 0,
      spanMs: 0,
      firstArrivalMs: null,
      maxInWindow: [0, 0],
    });
  });
});

describe('efficiency', () => {
  it('is the floor divided by the measured span', () => {
    // 5 calls under 2/100 ms: bursts at 0, 100 and 200 ms.
    expect(efficiency(5, windows, 250)).toBeCloseTo(0.8);
    expect(efficiency(5, windows, 0)).toBeNull();
  });
});

describe('replyStampedSpanMs', () => {
  const timed = (t: number, requestLegMs: number, durationMs: number): CallRecord => ({
    ...call(t, 201, `m${String(t)}`),
    requestLegMs,
    durationMs,
  });

  it('reuses each slot one window + guard after a reply, with the calls’ own latencies', () => {
    const one = [{ cap: 2, windowMs: 100 }];
    // Sent at 0, 0 → arrive at 1, 2 → reply at 4, 6; the third is sent at 4 + 100 + 1 and
    // arrives at 108, the fourth at 6 + 100 + 1 and arrives at 108 too (the real run's arrival
    // times only give the order).
    const calls = [timed(10, 1, 3), timed(11, 2, 4), timed(500, 3, 3), timed(501, 1, 3)];
    expect(replyStampedSpanMs(calls, one, 1)).toBe(108 - 1);
  });

  it('holds the span to the floor when latency is nil', () => {
    const calls = Array.from({ length: 7 }, (_, i) => timed(i, 0, 0));
    expect(replyStampedSpanMs(calls, windows, 0)).toBe(1_000);
  });
});
