import { describe, expect, it } from 'vitest';
import { budgetPanel } from '../../../src/dashboard/pages/budget-panel.js';

const NOW = Date.UTC(2026, 11, 1, 5, 0, 0);
const reason = '429 on a granted slot (window not named): 1m window 100 → 60 (61 of ours in it)';

describe('budget panel with the adaptive budget', () => {
  it('shows the effective cap, the configured cap and why it was last lowered', () => {
    const page = budgetPanel(
      [
        {
          id: 'commercial:t:a',
          families: [
            {
              family: 'scan',
              windows: [
                { cap: 60, configuredCap: 100, windowMs: 60_000, used: 58 },
                { cap: 1500, configuredCap: 1500, windowMs: 3_600_000, used: 300 },
              ],
              pausedUntil: null,
              lastDecrease: { reason, at: NOW - 30_000 },
            },
          ],
        },
      ],
      NOW,
    ).value;
    expect(page).toContain('<strong class="used">58</strong> /\n            60');
    expect(page).toMatch(/data-configured-cap="100">\s*effective cap 60, configured\s*100/);
    // The hour window is at its configured cap: no adaptive line for it.
    expect(page.match(/window-adaptive/g)).toHaveLength(1);
    expect(page).toContain('1m window 100 → 60 (61 of ours in it)');
  });

  it('shows nothing extra when the caps are the configured ones', () => {
    const page = budgetPanel(
      [
        {
          id: 'commercial:t:a',
          families: [
            {
              family: 'scan',
              windows: [{ cap: 100, windowMs: 60_000, used: 10 }],
              pausedUntil: null,
            },
          ],
        },
      ],
      NOW,
    ).value;
    expect(page).not.toContain('window-adaptive');
    expect(page).not.toContain('last-decrease');
  });
});
