import { describe, expect, it } from 'vitest';
import { estimateCompletion } from '../../../src/campaigns/eta.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const mde = [
  { cap: 100, windowMs: MINUTE },
  { cap: 1_500, windowMs: HOUR },
];

describe('estimateCompletion', () => {
  it('is zero with nothing left to call', () => {
    expect(estimateCompletion({ remaining: 0, windows: mde, usedNow: [100, 1_500] })).toBe(0);
  });

  it('is zero when every window has room for all remaining calls now', () => {
    expect(estimateCompletion({ remaining: 40, windows: mde, usedNow: [60, 900] })).toBe(0);
  });

  it('takes one more window per cap beyond what is free now', () => {
    const windows = [{ cap: 100, windowMs: MINUTE }];
    expect(estimateCompletion({ remaining: 250, windows, usedNow: [0] })).toBe(2 * MINUTE);
    expect(estimateCompletion({ remaining: 100, windows, usedNow: [0] })).toBe(0);
    expect(estimateCompletion({ remaining: 101, windows, usedNow: [0] })).toBe(MINUTE);
  });

  it('spreads the slots already used over their window', () => {
    const windows = [{ cap: 100, windowMs: MINUTE }];
    expect(estimateCompletion({ remaining: 1, windows, usedNow: [100] })).toBe(MINUTE / 100);
    expect(estimateCompletion({ remaining: 50, windows, usedNow: [100] })).toBe(MINUTE / 2);
  });

  it('accounts for both windows together, not each alone', () => {
    // 1,500 in the first 15 minutes, then the hour is full until minute 60, then 100 a minute.
    expect(estimateCompletion({ remaining: 3_000, windows: mde, usedNow: [0, 0] })).toBe(
      74 * MINUTE,
    );
    expect(estimateCompletion({ remaining: 1_500, windows: mde, usedNow: [0, 0] })).toBe(
      14 * MINUTE,
    );
  });

  it('waits out a pause after a 429 first', () => {
    expect(
      estimateCompletion({ remaining: 10, windows: mde, usedNow: [0, 0], pausedForMs: 30_000 }),
    ).toBe(30_000);
  });

  it('handles a fleet of 100,000 devices in reasonable time', () => {
    const started = performance.now();
    const eta = estimateCompletion({ remaining: 100_000, windows: mde, usedNow: [37, 1_234] });
    expect(eta).toBeGreaterThan(65 * HOUR);
    expect(eta).toBeLessThan(67 * HOUR);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
