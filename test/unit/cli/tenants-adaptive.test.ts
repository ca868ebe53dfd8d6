import { describe, expect, it } from 'vitest';
import { describeAdaptive } from '../../../src/cli/commands/tenants.js';
import type { AdaptiveBudgetView } from '../../../src/limiter/scan-limiter.js';

const AT = Date.UTC(2026, 11, 1, 10, 3, 4);
const windows = (minuteCap: number): AdaptiveBudgetView['windows'] => [
  { windowMs: 60_000, configuredCap: 100, effectiveCap: minuteCap, floor: 10 },
  { windowMs: 3_600_000, configuredCap: 1500, effectiveCap: 1500, floor: 600 },
];

describe('fleetscan tenants: the ADAPTIVE column', () => {
  it.each<{ view: AdaptiveBudgetView; text: string }>([
    {
      view: { enabled: false, state: 'off', family: 'scan', windows: [], lastDecrease: null },
      text: 'off',
    },
    {
      view: {
        enabled: true,
        state: 'configured',
        family: 'scan',
        windows: windows(100),
        lastDecrease: null,
      },
      text: 'configured caps',
    },
    {
      view: {
        enabled: true,
        state: 'lowered',
        family: 'scan',
        windows: windows(61),
        lastDecrease: { reason: '429 on a granted slot: 1m window 100 → 61', at: AT },
      },
      text: 'lowered 61/100 per 1m (last 429 2026-12-01T10:03:04.000Z)',
    },
  ])('$text', ({ view, text }) => {
    expect(describeAdaptive(view)).toBe(text);
  });
});
