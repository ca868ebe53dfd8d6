import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import { createGraphClient } from '../../src/hunting/graph-client.js';
import { HuntingError } from '../../src/hunting/hunting-error.js';
import { scanEvidenceQuery } from '../../src/hunting/scan-evidence-query.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { recordingGate, silent, verifyOn } from './fidelity-kit.js';

const HOUR = 3_600_000;
const healthy = { busy: 0, offline: 0, inactive: 0, unsupportedOs: 0, excluded: 0, duplicate: 0 };
const allComplete = {
  completedRate: 1,
  cancelledRate: 0,
  failedRate: 0,
  delayMs: [60_000, 60_000] as const,
};

describe('contract: advanced hunting as Graph answers it', () => {
  it('quirk hunting-call-quota: a call-count 429 pauses for its Retry-After, only the CPU quota for the 15-minute cycle', async () => {
    await withSimulator(
      {
        fleet: 2,
        huntingRateLimits: [{ cap: 1, windowMs: 60_000 }],
        huntingCpuQuota: 1,
        // The stricter case: no Retry-After, so only the body tells which limit was reached.
        huntingRetryAfter: false,
      },
      async ({ url, sim }) => {
        const gate = recordingGate();
        const graph = createGraphClient({
          graphUrl: url,
          tokens: staticTokenProvider(sim.issueToken({ resource: 'https://graph.microsoft.com' })),
          gate,
          timeoutMs: 30_000,
          throttleDefaultMs: 5_000,
          log: silent,
          now: () => sim.now(),
        });
        const query = scanEvidenceQuery(sim.now() - HOUR, [sim.machines[0]?.id ?? '']);
        await graph.runHuntingQuery(query);
        const countQuota = await graph.runHuntingQuery(query).catch((e: unknown) => e);
        expect(countQuota).toBeInstanceOf(HuntingError);
        expect((countQuota as HuntingError).message).toMatch(
          /API calls quota exceeded! maximum allowed 1 per 00:01:00/,
        );
        // The configured default, not the rest of a 15-minute cycle (the old /cpu|quota/ mistake).
        expect((countQuota as HuntingError).retryAfterMs).toBe(5_000);
        expect(gate.pauses).toEqual([5_000]);
        graph.close();
      },
    );
    // 5 minutes into a 15-minute cycle, on a clock that stands still.
    const fixed = Date.parse('2026-12-01T10:05:00Z');
    await withSimulator(
      { fleet: 2, huntingCpuQuota: 1, now: () => fixed },
      async ({ url, sim }) => {
        const gate = recordingGate();
        const graph = createGraphClient({
          graphUrl: url,
          tokens: staticTokenProvider(sim.issueToken({ resource: 'https://graph.microsoft.com' })),
          gate,
          timeoutMs: 30_000,
          throttleDefaultMs: 5_000,
          log: silent,
          now: () => sim.now(),
        });
        const query = scanEvidenceQuery(sim.now() - HOUR, [sim.machines[0]?.id ?? '']);
        await graph.runHuntingQuery(query);
        const cpu = (await graph.runHuntingQuery(query).catch((e: unknown) => e)) as HuntingError;
        expect(cpu.message).toMatch(/processing resources allocated to this tenant/);
        // No Retry-After: the rest of the current 15-minute cycle, far more than the default.
        expect(cpu.retryAfterMs).toBe(10 * 60_000);
        graph.close();
      },
    );
  });

  it('quirk hunting-row-limit: an answer cut at the row limit is asked again in halves, so no device loses its events', async () => {
    await withSimulator(
      { fleet: 40, fleetMix: healthy, evidence: allComplete, huntingMaxRows: 8 },
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
        const { summary, results } = await verifyOn(sim, url, actions, {
          chunkSize: 20,
          maxRows: 8,
        });
        expect(summary.splits).toBeGreaterThan(0);
        expect(summary.counts.completed).toBe(40);
        expect([...results.values()].every((r) => r.result === 'completed')).toBe(true);
      },
    );
  });

  it('quirk hunting-timeout: a query past the 3-minute execution limit answers 400 and is asked again in halves', async () => {
    await withSimulator(
      // 50 devices × 4 s = 200 s > 180 s; 25 × 4 s fits.
      { fleet: 50, fleetMix: healthy, evidence: allComplete, huntingMsPerDevice: 4_000 },
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
        const { summary } = await verifyOn(sim, url, actions, { chunkSize: 50 });
        const hunting = sim.calls().filter((c) => c.family === 'hunting');
        expect(hunting.map((c) => c.status)).toEqual([400, 200, 200]);
        expect(summary).toMatchObject({ splits: 1, counts: { completed: 50 } });
      },
    );
  });

  it('quirk scan-kind-and-scheduled-scans: only scans of the requested kind after delivery prove; an overlapping scheduled scan makes it ambiguous', async () => {
    await withSimulator(
      {
        fleet: 60,
        fleetMix: healthy,
        evidence: allComplete,
        // Every device runs scheduled scans each 90 min, most of them Quick.
        scheduledScans: { share: 1, everyMs: 1.5 * HOUR, fullShare: 0.3 },
      },
      async ({ url, sim }) => {
        const now = sim.now();
        const actions = sim.addActions(
          sim.machines.map((m) => ({
            machineId: m.id,
            comment: 'contract',
            createdMs: now - 3 * HOUR,
            finishesAtMs: now - 3 * HOUR + 60_000,
          })),
        );
        const full = await verifyOn(sim, url, actions, { chunkSize: 30, scanType: 'Full' });
        const quick = await verifyOn(sim, url, actions, { chunkSize: 30, scanType: 'Quick' });
        // The campaign's own scans are Quick (ScanParametersIndex 1): a Full campaign is proved
        // only by a scheduled Full scan, never by them, and Quick ones overlap scheduled Quick scans.
        for (const action of actions) {
          const own = action.evidence?.atMs ?? 0;
          const f = full.results.get(action.machineId);
          if (f?.result === 'completed') expect(Date.parse(f.at ?? '')).not.toBe(own);
        }
        expect(quick.summary.counts.ambiguous).toBeGreaterThan(0);
        expect(quick.summary.counts.ambiguous + quick.summary.counts.completed).toBe(60);
        expect(full.summary.counts.ambiguous + full.summary.counts.completed).toBeGreaterThan(0);
      },
    );
  });
});
