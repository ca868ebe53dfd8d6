import { pino } from 'pino';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import type { Campaign, DeviceRecord, ScanResult } from '../../src/campaigns/campaign.js';
import type { CallGate } from '../../src/defender/call-gate.js';
import { createDefenderClient, type DefenderClient } from '../../src/defender/client.js';
import { createGraphClient, type HuntingGate } from '../../src/hunting/graph-client.js';
import { verifyCampaign, type VerifySummary } from '../../src/hunting/verify-campaign.js';
import type { Clock } from '../../src/shared/clock.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import type { StoredAction } from '../../src/simulator/machine-actions.js';

export const silent = pino({ level: 'silent' });

/** A gate that never waits and records every pause the client asks for. */
export function recordingGate(): CallGate & HuntingGate & { pauses: number[] } {
  const pauses: number[] = [];
  const permit = { settle: () => Promise.resolve(), release: () => Promise.resolve() };
  return {
    pauses,
    acquire: () => Promise.resolve(permit),
    throttle: (_family: string, ms: number) => {
      pauses.push(ms);
      return Promise.resolve();
    },
  };
}

/** The production Defender client on the simulator, with an app token. */
export function defenderOn(sim: Simulator, url: string, gate: CallGate): DefenderClient {
  return createDefenderClient({
    apiUrl: url,
    tokens: staticTokenProvider(sim.issueToken({ lifetimeSec: 86_400 })),
    gate,
    timeoutMs: 30_000,
    pageSize: 10_000,
    throttleDefaultMs: 60_000,
    log: silent,
    getRetries: 0,
  });
}

export const clockAt = (now: () => number): Clock => ({
  now,
  sleep: () => Promise.resolve(),
});

/**
 * `fleetscan verify`'s code path (verifyCampaign + the Graph client) on the simulator, with an
 * in-memory campaign of `actions` and in-memory result records instead of Redis.
 */
export async function verifyOn(
  sim: Simulator,
  url: string,
  actions: readonly StoredAction[],
  options: { chunkSize: number; maxRows?: number; scanType?: 'Quick' | 'Full' },
): Promise<{
  summary: VerifySummary;
  results: Map<string, { result: ScanResult; at: string | null }>;
}> {
  const gate = recordingGate();
  const graph = createGraphClient({
    graphUrl: url,
    tokens: staticTokenProvider(sim.issueToken({ resource: 'https://graph.microsoft.com' })),
    gate,
    timeoutMs: 30_000,
    throttleDefaultMs: 1_000,
    log: silent,
  });
  const devices: DeviceRecord[] = actions.map((a) => ({
    machineId: a.machineId,
    state: 'requested',
    machineActionId: a.id,
    actionStatus: 'Pending',
    actionCreatedAt: new Date(a.createdMs).toISOString(),
    reason: null,
    attempts: 1,
    requestedAt: a.createdMs,
    joinedExisting: false,
    sentAt: a.createdMs,
    deferredUntil: null,
    firstBusyAt: null,
  }));
  const results = new Map<string, { result: ScanResult; at: string | null }>();
  const summary = await verifyCampaign(
    {
      store: {
        // eslint-disable-next-line @typescript-eslint/require-await
        async *iterateDevices() {
          yield* devices;
        },
        getCampaign: () => Promise.resolve({ scanType: options.scanType ?? 'Quick' } as Campaign),
      },
      lifecycle: {
        recordProof: (_id, proofs) => {
          for (const p of proofs) results.set(p.machineId, { result: p.result, at: p.at });
          return Promise.resolve();
        },
        recordVerified: () => Promise.resolve(),
      },
      graph,
      clock: clockAt(() => sim.now()),
      log: silent,
      chunkSize: options.chunkSize,
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
    },
    'c-contract0001',
  );
  graph.close();
  return { summary, results };
}
