import { describe, expect, it } from 'vitest';
import { describeBudget } from '../../../src/cli/commands/shared/render-status.js';

const NOW = Date.UTC(2026, 11, 1, 5, 0, 0);

describe('status with the adaptive budget', () => {
  it('shows the effective cap beside the configured one and why it was lowered', () => {
    const line = describeBudget(
      {
        id: 'commercial:t:a',
        family: 'scan',
        windows: [
          { cap: 60, configuredCap: 100, windowMs: 60_000, used: 42 },
          { cap: 1500, configuredCap: 1500, windowMs: 3_600_000, used: 400 },
        ],
        pausedUntil: null,
        lastDecrease: { reason: '429 on a granted slot: 1m window 100 → 60', at: NOW - 60_000 },
      },
      NOW,
    );
    expect(line).toBe(
      'budget commercial:t:a (scan calls): 42/60 per 1m (effective cap; configured 100), 400/1,500 per 1h 00m; ' +
        'last lowered 2026-12-01T04:59:00.000Z: 429 on a granted slot: 1m window 100 → 60',
    );
  });

  it('reads as before when nothing was learned', () => {
    const line = describeBudget(
      {
        id: 'commercial:t:a',
        family: 'scan',
        windows: [{ cap: 100, configuredCap: 100, windowMs: 60_000, used: 1 }],
        pausedUntil: null,
        lastDecrease: null,
      },
      NOW,
    );
    expect(line).toBe('budget commercial:t:a (scan calls): 1/100 per 1m');
  });
});
