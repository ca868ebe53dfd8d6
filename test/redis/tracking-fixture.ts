import { pino } from 'pino';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import type { RedisCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { CallGate } from '../../src/defender/call-gate.js';
import { createDefenderClient, type DefenderClient } from '../../src/defender/client.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import type { StoredAction } from '../../src/simulator/machine-actions.js';

export const silent = pino({ level: 'silent' });

/** A gate that never waits: these tests count calls in the simulator's log instead. */
export const openGate: CallGate = {
  acquire: () =>
    Promise.resolve({ settle: () => Promise.resolve(), release: () => Promise.resolve() }),
  throttle: () => Promise.resolve(),
};

/** A Defender client on the simulator with a long-lived token. */
export function simClient(
  sim: Simulator,
  url: string,
  options: { pageSize?: number; gate?: CallGate } = {},
): DefenderClient {
  return createDefenderClient({
    apiUrl: url,
    tokens: staticTokenProvider(sim.issueToken({ lifetimeSec: 86_400 })),
    gate: options.gate ?? openGate,
    timeoutMs: 60_000,
    pageSize: options.pageSize ?? 10_000,
    throttleDefaultMs: 1_000,
    log: silent,
  });
}

/**
 * A campaign whose devices are all `requested` with the given simulator actions (as the worker
 * records them), so it is finished and waits only for its actions to settle.
 */
export async function recordCampaign(
  store: RedisCampaignStore,
  id: string,
  createdAt: number,
  actions: readonly StoredAction[],
  joined: ReadonlySet<string> = new Set(),
  tenant = 'default',
): Promise<void> {
  await store.createCampaign({
    id,
    name: id,
    scanType: 'Quick',
    comment: `tracker test [fleetscan:${id}]`,
    createdAt,
    createdBy: 'test',
    source: 'test',
    tenant,
    priority: 'normal',
    window: null,
    schedule: null,
  });
  await store.addDevices(
    id,
    actions.map((a) => a.machineId),
  );
  for (let i = 0; i < actions.length; i += 2_000) {
    await Promise.all(
      actions.slice(i, i + 2_000).map((a) =>
        store.markRequested(
          id,
          a.machineId,
          {
            id: a.id,
            status: 'Pending',
            creationDateTimeUtc: new Date(a.createdMs).toISOString(),
          },
          { joinedExisting: joined.has(a.id), at: a.createdMs },
        ),
      ),
    );
  }
}
