import { describe, expect, it } from 'vitest';
import { createRateTracker } from '../../../src/dashboard/rate-tracker.js';

describe('createRateTracker', () => {
  it('shows a dash only before the first measurement, then never flips back to one', () => {
    const rates = createRateTracker(60_000);
    expect(rates.observe('c', 0, 0)).toBeNull();
    expect(rates.observe('c', 100, 1_500)).toBe(4_000);
    // A page left alone for minutes, then two polls 100 ms apart (overview and campaign page).
    expect(rates.observe('c', 100, 200_000)).toBeCloseTo(0);
    const next = rates.observe('c', 110, 200_100);
    expect(next).not.toBeNull();
    expect(rates.observe('c', 160, 201_200)).toBeCloseTo((60 / 1_200) * 60_000);
  });

  it('forgets campaigns no longer shown', () => {
    const rates = createRateTracker(60_000);
    rates.observe('c', 0, 0);
    rates.observe('c', 10, 2_000);
    rates.retain(new Set());
    expect(rates.observe('c', 20, 2_100)).toBeNull();
  });
});
