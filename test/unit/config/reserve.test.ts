import { describe, expect, it } from 'vitest';
import { reserveFor } from '../../../src/config/reserve.js';

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
