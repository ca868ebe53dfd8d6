import { describe, expect, it } from 'vitest';
import { estimateCampaignEtas } from '../../../src/lanes/campaign-etas.js';
import { createRateTracker } from '../../../src/dashboard/rate-tracker.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const budget = (usedMin: number, usedHour: number, pausedUntil: number | null = null) => ({
  family: 'scan',
  windows: [
    { cap: 100, windowMs: MIN, used: usedMin },
    { cap: 1500, windowMs: HOUR, used: usedHour },
  ],
  pausedUntil,
});

describe('estimateCampaignEtas', () => {
  it('queues running campaigns behind older ones and skips paused ones', () => {
    const etas = estimateCampaignEtas(
      [
        { id: 'new', createdAt: 3, remaining: 200, running: true },
        { id: 'old', createdAt: 1, remaining: 200, running: true },
        { id: 'held', createdAt: 2, remaining: 10_000, running: false },
        { id: 'done', createdAt: 0, remaining: 0, running: true },
      ],
      budget(0, 0),
      0,
    );
    expect(etas.get('old')).toBe(1 * MIN);
    expect(etas.get('new')).toBe(3 * MIN);
    expect(etas.get('done')).toBe(0);
    expect(etas.has('held')).toBe(false);
  });

  it('waits out a pause after a 429 first', () => {
    const etas = estimateCampaignEtas(
      [{ id: 'only', createdAt: 0, remaining: 50, running: true }],
      budget(0, 0, 40_000),
      10_000,
    );
    expect(etas.get('only')).toBe(30_000);
  });

  it('has no ETA without a budget to compute from', () => {
    const etas = estimateCampaignEtas(
      [{ id: 'x', createdAt: 0, remaining: 5, running: true }],
      undefined,
      0,
    );
    expect(etas.get('x')).toBeNull();
  });
});

describe('createRateTracker', () => {
  it('measures devices settled per minute over the last minute', () => {
    const rates = createRateTracker();
    expect(rates.observe('c', 0, 0)).toBeNull();
    expect(rates.observe('c', 50, 30_000)).toBe(100);
    expect(rates.observe('c', 100, 60_000)).toBe(100);
    // Old samples age out: only the last minute counts.
    expect(rates.observe('c', 100, 150_000)).toBe(0);
  });

  it('forgets campaigns no longer shown', () => {
    const rates = createRateTracker();
    rates.observe('a', 0, 0);
    rates.retain(new Set());
    expect(rates.observe('a', 10, 10_000)).toBeNull();
  });
});
