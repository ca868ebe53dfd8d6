import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Campaign, DeviceRecord, ScanResult } from '../../../src/campaigns/campaign.js';
import { verifyCampaign } from '../../../src/hunting/verify-campaign.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const T = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const row = (id: string, atMs: number, kind: number, scanId: string) => ({
  Timestamp: iso(atMs),
  DeviceId: id,
  ActionType: 'AntivirusScanCompleted',
  AdditionalFields: JSON.stringify({ ScanTypeIndex: 3, ScanParametersIndex: kind, ScanId: scanId }),
});

function device(id: string, extra: Partial<DeviceRecord>): DeviceRecord {
  return {
    machineId: id,
    state: 'requested',
    machineActionId: `action-${id.slice(0, 4)}`,
    actionStatus: 'Pending',
    actionCreatedAt: iso(T),
    reason: null,
    attempts: 1,
    requestedAt: T,
    joinedExisting: false,
    sentAt: T,
    deferredUntil: null,
    firstBusyAt: null,
    ...extra,
  };
}

describe('verify counts from delivery', () => {
  it('ignores a scan that ended before the action was delivered (Succeeded), and one of another kind', async () => {
    const devices = [
      // Delivered 30 min after creation: the scheduled Quick scan at +10 min ended before it.
      device(A, { actionStatus: 'Succeeded', actionUpdatedAt: iso(T + 30 * MIN) }),
      // Never seen Succeeded: delivery is the creation, so both Quick scans are candidates.
      device(B, {}),
    ];
    const rows = [
      row(A, T + 10 * MIN, 1, '{S1}'),
      row(A, T + 40 * MIN, 1, '{S2}'),
      row(A, T + 45 * MIN, 2, '{S3}'),
      row(B, T + 10 * MIN, 1, '{S4}'),
      row(B, T + 40 * MIN, 1, '{S5}'),
    ];
    const results = new Map<string, ScanResult>();
    const summary = await verifyCampaign(
      {
        store: {
          // eslint-disable-next-line @typescript-eslint/require-await
          async *iterateDevices() {
            yield* devices;
          },
          getCampaign: () => Promise.resolve({ scanType: 'Quick' } as Campaign),
        },
        lifecycle: {
          recordProof: (_id, proofs) => {
            for (const p of proofs) results.set(p.machineId, p.result);
            return Promise.resolve();
          },
          recordVerified: () => Promise.resolve(),
        },
        graph: { runHuntingQuery: () => Promise.resolve({ schema: [], results: rows }) },
        clock: { now: () => T + 2 * 60 * MIN, sleep: () => Promise.resolve() },
        log: pino({ level: 'silent' }),
        chunkSize: 50,
      },
      'c-delivery0001',
    );
    expect(results.get(A)).toBe('completed');
    expect(results.get(B)).toBe('ambiguous');
    expect(summary.counts).toMatchObject({ completed: 1, ambiguous: 1 });
  });
});
