import { describe, expect, it } from 'vitest';
import { fitsNow } from '../../../src/lanes/reserve.js';

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
