import { describe, expect, it } from 'vitest';
import { budgetPanel } from '../../../src/dashboard/pages/budget-panel.js';

const NOW = Date.UTC(2026, 11, 1, 5, 0, 0);
const families = [
  { family: 'scan', windows: [{ cap: 100, windowMs: 60_000, used: 0 }], pausedUntil: null },
];

describe('budget panel with the tenant-wide fault breaker', () => {
  it('shows a blocked budget with its reason, next probe and fix', () => {
    const page = budgetPanel(
      [
        {
          id: 'commercial:t:a',
          families,
          blocked: {
            reason: 'credentials_rejected',
            message: 'Entra token request failed: invalid_client. Check the client secret <b>.',
            since: new Date(NOW - 60_000).toISOString(),
            nextProbeAt: new Date(NOW + 20_000).toISOString(),
            failedProbes: 3,
          },
        },
      ],
      NOW,
    ).value;
    expect(page).toContain('data-reason="credentials_rejected"');
    expect(page).toContain('blocked: credentials_rejected');
    expect(page).toMatch(/\(3 failed\)/);
    // The message is escaped text, not markup.
    expect(page).toContain('Check the client secret &lt;b&gt;.');
  });

  it('shows no block on an open budget', () => {
    const page = budgetPanel([{ id: 'commercial:t:a', families, blocked: null }], NOW).value;
    expect(page).not.toContain('budget-blocked');
  });
});
