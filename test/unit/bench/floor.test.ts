import { describe, expect, it } from 'vitest';
import { earliestCallTimes, theoreticalFloorMs } from '../../../bench/lib/floor.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MDE = [
  { cap: 100, windowMs: MINUTE },
  { cap: 1500, windowMs: HOUR },
];

describe('theoreticalFloorMs', () => {
  it.each([
    [400, 3 * MINUTE],
    [1_500, 14 * MINUTE],
    [5_000, 3 * HOUR + 4 * MINUTE],
    [50_000, 33 * HOUR + 4 * MINUTE],
  ])('gives %i calls under 100/min and 1500/h a floor of %i ms', (n, expected) => {
    expect(theoreticalFloorMs(n, MDE)).toBe(expected);
  });

  it('is zero for no call and for one call', () => {
    expect(theoreticalFloorMs(0, MDE)).toBe(0);
    expect(theoreticalFloorMs(1, MDE)).toBe(0);
  });

  it('scales with compressed windows', () => {
    const compressed = MDE.map((w) => ({ cap: w.cap, windowMs: w.windowMs / 100 }));
    expect(theoreticalFloorMs(5_000, compressed)).toBe((3 * HOUR + 4 * MINUTE) / 100);
  });

  it('agrees with the greedy schedule for nested and non-nested windows', () => {
    const cases = [
      MDE,
      [{ cap: 25, windowMs: MINUTE }],
      [
        { cap: 10, windowMs: 1_000 },
        { cap: 30, windowMs: 5_000 },
        { cap: 60, windowMs: 20_000 },
      ],
      [
        { cap: 100, windowMs: 60 },
        { cap: 150, windowMs: 90 },
      ],
    ];
    for (const windows of cases) {
      for (const n of [2, 99, 100, 101, 1_499, 1_500, 1_501, 3_333]) {
        expect(theoreticalFloorMs(n, windows)).toBe(earliestCallTimes(n, windows)[n - 1]);
      }
    }
  });

  it('never lets any window hold more than its cap in the schedule it assumes', () => {
    const windows = [
      { cap: 7, windowMs: 100 },
      { cap: 20, windowMs: 450 },
    ];
    const times = earliestCallTimes(500, windows);
    for (const { cap, windowMs } of windows) {
      for (let k = cap; k < times.length; k++) {
        expect(times[k]! - times[k - cap]!).toBeGreaterThanOrEqual(windowMs);
      }
    }
  });

  it('refuses a negative or fractional count and a zero-length window', () => {
    expect(() => theoreticalFloorMs(-1, MDE)).toThrow(RangeError);
    expect(() => theoreticalFloorMs(1.5, MDE)).toThrow(RangeError);
    expect(() => theoreticalFloorMs(10, [{ cap: 1, windowMs: 0 }])).toThrow(RangeError);
  });
});
