import { describe, expect, it } from 'vitest';
import { callsReport } from '../../../src/reports/report-data.js';
import { timelineBucketMs, timelineField } from '../../../src/metrics/call-timeline.js';

const MINUTE = 60_000;
const T = Date.parse('2026-12-01T10:00:00Z');

describe('the call timeline', () => {
  it.each([
    [
      [
        { cap: 100, windowMs: MINUTE },
        { cap: 1500, windowMs: 60 * MINUTE },
      ],
      MINUTE,
    ],
    [
      [
        { cap: 100, windowMs: 600 },
        { cap: 1500, windowMs: 36_000 },
      ],
      600,
    ],
    [
      [
        { cap: 10, windowMs: 1_500 },
        { cap: 100, windowMs: 60_000 },
      ],
      1_500,
    ],
    [[{ cap: 10, windowMs: 30 }], 100], // never finer than 100 ms
  ])('buckets %j by %i ms', (windows, bucket) => {
    expect(timelineBucketMs(windows)).toBe(bucket);
  });

  it('names a field by family, bucket size and bucket index', () => {
    expect(timelineField('scan', T + 59_999, MINUTE)).toBe(`scan:60000:${String(T / MINUTE)}`);
  });
});

describe('calls per window', () => {
  const timeline = [
    { family: 'scan', startMs: T, bucketMs: MINUTE, calls: 100 },
    { family: 'machineActions', startMs: T, bucketMs: MINUTE, calls: 3 },
    { family: 'scan', startMs: T + MINUTE, bucketMs: MINUTE, calls: 90 },
    { family: 'cancel', startMs: T + 2 * MINUTE, bucketMs: MINUTE, calls: 40 },
    { family: 'scan', startMs: T + 61 * MINUTE, bucketMs: MINUTE, calls: 7 },
  ];
  const windows = [
    { cap: 1500, windowMs: 60 * MINUTE },
    { cap: 100, windowMs: MINUTE },
  ];

  it('charts each family against its own caps, shortest window first, leaving out empty windows', () => {
    const report = callsReport(timeline, windows, 'family');
    expect(report.total).toBe(240);
    expect(report.byFamily).toEqual({ scan: 197, machineActions: 3, cancel: 40 });
    expect(report.charts.map((c) => [c.family, c.window.windowMs])).toEqual([
      ['scan', MINUTE],
      ['scan', 60 * MINUTE],
      ['machineActions', MINUTE],
      ['machineActions', 60 * MINUTE],
      ['cancel', MINUTE],
      ['cancel', 60 * MINUTE],
    ]);
    const [minute, hour] = report.charts;
    expect(minute?.buckets.map((b) => [b.start, b.total])).toEqual([
      ['2026-12-01T10:00:00.000Z', 100],
      ['2026-12-01T10:01:00.000Z', 90],
      ['2026-12-01T11:01:00.000Z', 7],
    ]);
    // The scan budget's busiest minute is its 100 scans: the 3 look-ups spent another budget.
    expect(minute?.busiest).toBe(100);
    expect(hour?.buckets.map((b) => [b.start, b.total, b.byFamily])).toEqual([
      ['2026-12-01T10:00:00.000Z', 190, { scan: 190 }],
      ['2026-12-01T11:00:00.000Z', 7, { scan: 7 }],
    ]);
    expect(hour?.busiest).toBe(190);
    // Every call is drawn once per window, in its own family's chart.
    for (const window of windows) {
      const drawn = report.charts
        .filter((c) => c.window.windowMs === window.windowMs)
        .flatMap((c) => c.buckets.map((b) => b.total));
      expect(drawn.reduce((a, b) => a + b, 0)).toBe(240);
    }
  });

  it('does not stack a kill switch (cancels + look-ups) against one cap', () => {
    const killSwitch = [
      { family: 'cancel', startMs: T, bucketMs: MINUTE, calls: 89 },
      { family: 'machineActions', startMs: T, bucketMs: MINUTE, calls: 89 },
    ];
    const report = callsReport(killSwitch, [{ cap: 100, windowMs: MINUTE }], 'family');
    expect(report.charts.map((c) => [c.family, c.busiest, c.window.cap])).toEqual([
      ['machineActions', 89, 100],
      ['cancel', 89, 100],
    ]);
  });

  it('counts every family against one cap when the budget is shared', () => {
    const report = callsReport(timeline, windows, 'shared');
    expect(report.charts.map((c) => [c.family, c.busiest])).toEqual([
      [null, 103],
      [null, 233],
    ]);
  });

  it('is empty without calls', () => {
    expect(callsReport([], windows, 'family')).toMatchObject({
      total: 0,
      byFamily: {},
      charts: [],
    });
    expect(callsReport([], windows, 'shared').charts).toMatchObject([
      { buckets: [], busiest: 0 },
      { buckets: [], busiest: 0 },
    ]);
  });
});
