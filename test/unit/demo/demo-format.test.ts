import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../src/campaigns/campaign.js';
import { scaledWindows } from '../../../src/demo/demo-environment.js';
import { formatProgress, readProgress, recentScanCalls } from '../../../src/demo/demo-progress.js';
import { formatSummary, summarize } from '../../../src/demo/demo-summary.js';
import type { CallRecord, SimulatorStats } from '../../../src/simulator/build-simulator.js';

const WINDOWS = [
  { cap: 100, windowMs: 500 },
  { cap: 1500, windowMs: 30_000 },
];

function call(t: number, family: CallRecord['family'] = 'scan'): CallRecord {
  return {
    t,
    method: 'POST',
    path: '/',
    family,
    status: 201,
    code: null,
    machineId: null,
    actionId: null,
    existingActionId: null,
    lost: false,
    appId: null,
    durationMs: 1,
  };
}

function campaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-abcdefabcdef',
    name: 'demo',
    scanType: 'Quick',
    comment: 'x',
    createdAt: 0,
    createdBy: 't',
    source: 't',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
    state: 'running',
    finishedAt: null,
    total: 2_500,
    joinedExisting: 3,
    failuresByReason: {},
    deferrals: 0,
    counts: { queued: 1_000, deferred: 10, requested: 1_450, failed: 40, cancelled: 0 },
    ...overrides,
  };
}

describe('demo output', () => {
  it('scales Microsoft’s windows to the simulator’s clock, rounding up', () => {
    expect(scaledWindows(120)).toBe('100/500ms,1500/30000ms');
    expect(scaledWindows(7)).toBe('100/8572ms,1500/514286ms');
  });

  it('counts only scan calls inside the last window', () => {
    const calls = [call(100), call(600), call(700, 'machineActions'), call(900), call(1_000)];
    expect(recentScanCalls(calls, 1_000, 500)).toBe(3);
  });

  it('shows counts, the busiest window, an ETA from the budget and 429s on one line', () => {
    const progress = readProgress({
      campaign: campaign(),
      startedAt: 0,
      now: 12_000,
      windows: WINDOWS,
      usedNow: [100, 1_500],
      calls: [call(11_800)],
      throttled: 0,
    });
    expect(progress).toMatchObject({
      requested: 1_450,
      deferred: 10,
      failed: 40,
      waiting: 1_010,
      callsInWindow: 1,
    });
    expect(progress.etaMs).toBeGreaterThan(0);
    const line = formatProgress(progress);
    expect(line).toContain('1,450/2,500 requested');
    expect(line).toContain('1/100 calls per 500ms');
    expect(line).toContain('429s 0');
  });

  // Issue 25: the demo sat at `0/100 calls per 500ms ETA 26.8s` with no word of the reserve.
  it('names the urgent reserve when it is what holds a normal campaign back', () => {
    const input = {
      startedAt: 0,
      now: 12_000,
      windows: WINDOWS,
      usedNow: [0, 1_400],
      calls: [],
      throttled: 0,
      slotExits: [[], Array.from({ length: 1_400 }, (_, k) => 26_800 + k)],
      reserve: [10, 100],
    };
    const held = readProgress({ ...input, campaign: campaign() });
    expect(held.heldBy).toMatchObject({ windowMs: 30_000, reserve: 100, cap: 1_500 });
    expect(formatProgress(held)).toContain('waiting: urgent reserve 100 of 1,500/30s (26.8s)');
    const urgent = readProgress({ ...input, campaign: campaign({ priority: 'urgent' }) });
    expect(urgent.heldBy).toBeNull();
    expect(formatProgress(urgent)).not.toContain('waiting');
  });

  it('sums up against the best possible time for the fleet', () => {
    const stats = {
      calls: 3,
      byFamily: { scan: 3, machineActions: 0, cancel: 0, machines: 0 },
      throttled: 0,
      faults: 0,
      lostReplies: 0,
      actionsCreated: 3,
    } as unknown as SimulatorStats;
    const summary = summarize({
      campaign: campaign({
        total: 201,
        counts: { queued: 0, deferred: 0, requested: 200, failed: 1, cancelled: 0 },
      }),
      actionIds: new Set(['a', 'b']),
      stats,
      calls: [call(0), call(400), call(1_250)],
      windows: WINDOWS,
      elapsedMs: 2_000,
      timeScale: 120,
      exportPath: '/tmp/x.csv',
    });
    // 201 calls under 100 per 500 ms: the 201st can go at 1,000 ms at the earliest.
    expect(summary).toMatchObject({
      floorMs: 1_000,
      scanSpanMs: 1_250,
      shareOfFloor: 0.8,
      actionsRecorded: 2,
    });
    expect(summary.busiestWindows).toEqual([
      { cap: 100, windowMs: 500, max: 2 },
      { cap: 1500, windowMs: 30_000, max: 3 },
    ]);
    expect(formatSummary(summary)).toContain('80 % of the fastest the API allows');
    expect(formatSummary({ ...summary, floorMs: 0, shareOfFloor: null })).toContain(
      'every call fit in the first window (no wait was needed)',
    );
  });
});
