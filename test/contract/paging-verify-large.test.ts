import { describe, expect, it } from 'vitest';
import { withSimulator } from '../helpers/with-simulator.js';
import { verifyOn } from './fidelity-kit.js';

const HOUR = 3_600_000;
const healthy = { busy: 0, offline: 0, inactive: 0, unsupportedOs: 0, excluded: 0, duplicate: 0 };

describe('contract: verify of a campaign above 10,000 actions (issue 24)', () => {
  it('covers all 12,000 devices of a settled campaign, each with its own proof', async () => {
    await withSimulator(
      {
        fleet: 12_000,
        fleetMix: healthy,
        evidence: {
          completedRate: 0.9,
          cancelledRate: 0.05,
          failedRate: 0.05,
          delayMs: [60_000, 60_000],
        },
      },
      async ({ url, sim }) => {
        const now = sim.now();
        const actions = sim.addActions(
          sim.machines.map((m) => ({
            machineId: m.id,
            comment: 'contract',
            createdMs: now - 2 * HOUR,
            finishesAtMs: now - HOUR,
          })),
        );
        const { summary, results } = await verifyOn(sim, url, actions, { chunkSize: 2_000 });
        expect(summary.devices).toBe(12_000);
        expect(results.size).toBe(12_000);
        const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
        expect(total).toBe(12_000);
        // Every device has evidence of its scan (completed, cancelled or failed): none left out.
        expect(summary.counts['no-evidence']).toBe(0);
        expect(summary.counts.completed).toBeGreaterThan(10_000);
        expect(summary.queries).toBeGreaterThanOrEqual(6);
      },
    );
  }, 240_000);
});
