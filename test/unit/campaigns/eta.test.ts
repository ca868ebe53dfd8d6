import { describe, expect, it } from 'vitest';
import { estimateCompletion, etaAfterRetries, fullWindowWait } from '../../../src/campaigns/eta.js';

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

describe('estimateCompletion from the real slot times', () => {
  it('waits for the hour window when its slots were all taken early, not a spread guess', () => {
    // 1,500 calls in the first 15 minutes of the hour: none leaves before minute 60, 45 from now.
    const exits = [[], Array.from({ length: 1_500 }, (_, k) => 45 * MINUTE + k * 600)];
    expect(
      estimateCompletion({ remaining: 100, windows: mde, usedNow: [0, 1_500], slotExits: exits }),
    ).toBe(45 * MINUTE + 99 * 600);
    // The evenly spread guess says under five minutes.
    expect(estimateCompletion({ remaining: 100, windows: mde, usedNow: [0, 1_500] })).toBeLessThan(
      5 * MINUTE,
    );
  });

  it('is zero when the real slots leave room now', () => {
    expect(
      estimateCompletion({
        remaining: 5,
        windows: mde,
        usedNow: [0, 0],
        slotExits: [[1_000], [1_000]],
      }),
    ).toBe(0);
  });
});

describe('fullWindowWait', () => {
  it.each([
    ['no window full', [[10], [10]], null],
    [
      'the minute window full',
      [Array.from({ length: 100 }, (_, k) => 1_000 + k), [5]],
      { windowMs: MINUTE, waitMs: 1_000, cap: 100 },
    ],
    [
      'both full: the hour outlasts the minute',
      [
        Array.from({ length: 100 }, () => 2_000),
        Array.from({ length: 1_500 }, (_, k) => 20 * MINUTE + k),
      ],
      { windowMs: HOUR, waitMs: 20 * MINUTE, cap: 1_500 },
    ],
    [
      'over the cap: the surplus must leave first',
      [Array.from({ length: 102 }, (_, k) => k + 1), []],
      { windowMs: MINUTE, waitMs: 3, cap: 100 },
    ],
  ] as const)('%s', (_name, exits, expected) => {
    expect(fullWindowWait(mde, exits)).toEqual(expected);
  });

  // The demo's case (issue 25): 1,400 of 1,500 used, the last 100 kept for urgent campaigns.
  const hourAt1400 = Array.from({ length: 1_400 }, (_, k) => 10 * MINUTE + k);
  it('holds a normal campaign at cap − reserve and names the reserve', () => {
    expect(fullWindowWait(mde, [[], hourAt1400], [10, 100])).toEqual({
      windowMs: HOUR,
      waitMs: 10 * MINUTE,
      cap: 1_500,
      reserve: 100,
    });
  });

  it('lets an urgent campaign (no reserve) use the last 100', () => {
    expect(fullWindowWait(mde, [[], hourAt1400])).toBeNull();
  });

  it('does not blame the reserve for a window full to its cap', () => {
    const full = Array.from({ length: 1_500 }, (_, k) => 5 * MINUTE + k);
    expect(fullWindowWait(mde, [[], full], [10, 100])?.reserve).toBeUndefined();
  });
});

describe('estimateCompletion with a reserve', () => {
  it('gives a normal campaign only cap − reserve of each window', () => {
    const windows = [{ cap: 100, windowMs: MINUTE }];
    expect(estimateCompletion({ remaining: 95, windows, usedNow: [0] })).toBe(0);
    // 90 now, the other 5 once the first of them leaves the window.
    expect(estimateCompletion({ remaining: 95, windows, usedNow: [0], reserve: [10] })).toBe(
      MINUTE,
    );
  });
});

describe('etaAfterRetries', () => {
  it('never ends before the last busy device is due', () => {
    expect(etaAfterRetries(0, 1_260_000, 1_000_000)).toBe(260_000);
    expect(etaAfterRetries(500_000, 1_260_000, 1_000_000)).toBe(500_000);
    expect(etaAfterRetries(0, null, 1_000_000)).toBe(0);
    expect(etaAfterRetries(0, 900_000, 1_000_000)).toBe(0);
  });
});
