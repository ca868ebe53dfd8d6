import { describe, expect, it } from 'vitest';
import { fitsNow, reserveFor } from '../../../src/lanes/reserve.js';

const MDE = [
  { cap: 100, windowMs: 60_000 },
  { cap: 1_500, windowMs: 3_600_000 },
];
const COMPRESSED = [
  { cap: 100, windowMs: 600 },
  { cap: 1_500, windowMs: 36_000 },
];
const DEFAULT = [
  { cap: 10, windowMs: 60_000 },
  { cap: 100, windowMs: 3_600_000 },
];

describe('reserveFor', () => {
  it.each([
    ['the default on the real windows', MDE, DEFAULT, [10, 100]],
    ['no reserve', MDE, [], [0, 0]],
    ['one window only, by length', MDE, [{ cap: 50, windowMs: 3_600_000 }], [0, 50]],
    ['the default on compressed windows, by position', COMPRESSED, DEFAULT, [10, 100]],
    ['windows given in the other order', MDE, [...DEFAULT].reverse(), [10, 100]],
  ])('keeps %s', (_title, windows, reserve, expected) => {
    expect(reserveFor(windows, reserve)).toEqual(expected);
  });

  it('refuses a reserve that would leave normal campaigns nothing', () => {
    expect(() => reserveFor(MDE, [{ cap: 100, windowMs: 60_000 }])).toThrow(
      /keeps 100 of 100 calls per 60000 ms/,
    );
  });

  it('ignores reserve windows a budget with fewer windows has no window left for', () => {
    expect(reserveFor([{ cap: 1_000, windowMs: 60_000 }], DEFAULT)).toEqual([10]);
    expect(reserveFor([{ cap: 1_000, windowMs: 600 }], DEFAULT)).toEqual([10]);
  });
});

describe('fitsNow', () => {
  const caps = [100, 1_500];
  const reserve = [10, 100];
  it.each([
    // used per window, urgent, fits
    [[0, 0], false, true],
    [[89, 500], false, true],
    [[90, 500], false, false], // one more would eat into the minute's reserve
    [[50, 1_400], false, false], // ... or the hour's
    [[90, 500], true, true], // urgent may use the reserve
    [[99, 1_499], true, true],
    [[100, 500], true, false], // but not more than the cap
    [[10, 1_500], true, false],
  ] as const)('used %j, urgent %s: fits %s', (used, urgent, fits) => {
    expect(fitsNow(urgent, used, caps, reserve)).toBe(fits);
  });
});
