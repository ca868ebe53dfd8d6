import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { startCampaign, type ScanSource } from '../../src/control/start-campaign.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { createActionTracker } from '../../src/tracking/action-tracker.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { createFencedLock, trackerLockKey } from '../../src/tracking/tracker-lock.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator, waitFinished } from './scan-fixture.js';
import { recordCampaign, silent, simClient } from './tracking-fixture.js';

const MINUTE = 60_000;
const QUIET = { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listSource(ids: readonly string[]): ScanSource {
  return {
    description: 'test:list',
    chunks: (async function* () {
      await Promise.resolve();
      yield [...ids];
    })(),
    valid: () => ids.length,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () => ({}),
    takeHostnames: () => new Map(),
  };
}

describe('campaigns above 10,000 actions under the real paging', () => {
  it('tracks a 12,000-action campaign to final status, two list calls a round', async () => {
    const prefix = uniquePrefix('bigtrack');
    const redis = new Redis(testRedisUrl());
    cleanups.push(async () => {
      await cleanupPrefix(testRedisUrl(), prefix);
      redis.disconnect();
    });
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const clock = { now: t0 };
    const { sim, url } = await startSimulator({
      fleet: 12_000,
      fleetMix: QUIET,
      now: () => clock.now,
    });
    cleanups.push(() => sim.close());
    const id = 'c-bigtrack0001';
    // Sent over 4 minutes (the budget allows no faster); half end after 10 minutes, half after 20.
    const actions = sim.addActions(
      sim.machines.map((m, n) => ({
        machineId: m.id,
        comment: `sweep [fleetscan:${id}]`,
        createdMs: t0 + 1_000 + n * 20,
        finishesAtMs: t0 + (n % 2 === 0 ? 10 : 20) * MINUTE,
        outcome: n % 40 === 3 ? 'Failed' : 'Succeeded',
      })),
    );
    const store = createCampaignStore(redis, prefix);
    await recordCampaign(store, id, t0, actions);
    const client = simClient(sim, url);
    cleanups.push(() => {
      client.close();
      return Promise.resolve();
    });
    const tracker = createActionTracker({
      tenant: 'default',
      store,
      lifecycle: createLifecycleStore(redis, prefix),
      lister: client,
      lock: createFencedLock(redis, trackerLockKey(prefix, 'default'), 60_000),
      clock: { now: () => clock.now, sleep: () => Promise.resolve() },
      log: silent,
      settings: { intervalMs: 2 * MINUTE, horizonMs: 7 * 86_400_000 },
    });
    const lists = () => sim.calls().filter((c) => c.family === 'machineActions').length;
    const rounds = [];
    for (const at of [5, 15, 21]) {
      clock.now = t0 + at * MINUTE;
      const before = lists();
      rounds.push({ result: await tracker.runRound(), calls: lists() - before });
    }
    for (const round of rounds) {
      expect(round.result.listed).toBe(12_000);
      expect(round.calls).toBe(2);
    }
    expect(rounds[2]?.result.settled).toEqual([id]);
    const truth = new Map(sim.actions().map((a) => [a.id, a.transitions.at(-1)?.status]));
    let final = 0;
    for await (const device of store.iterateDevices(id)) {
      expect(device.actionStatus).toBe(truth.get(device.machineActionId ?? ''));
      final += 1;
    }
    expect(final).toBe(12_000);
  }, 120_000);

  it('a re-run after a store loss with 11,000 actions at the API finds them all and scans only the other 1,000', async () => {
    const prefix = uniquePrefix('bigloss');
    const sim = await startSimulator({ fleet: 12_000, timeScale: 100, fleetMix: QUIET });
    cleanups.push(() => sim.sim.close());
    const runtime = await buildRuntime(scanTestConfig(testRedisUrl(), prefix, sim), {
      role: 'test',
    });
    cleanups.push(async () => {
      await runtime.close();
      await cleanupPrefix(testRedisUrl(), prefix);
    });
    // The campaign sent 11,000 scans over the last minutes, then Redis came back empty.
    const id = newCampaignId(sim.sim.now() - 30 * MINUTE);
    const ids = sim.sim.machines.map((m) => m.id);
    const sent = sim.sim.addActions(
      ids.slice(0, 11_000).map((machineId, n) => ({
        machineId,
        comment: `store loss [fleetscan:${id}]`,
        createdMs: sim.sim.now() - 25 * MINUTE + n * 100,
        finishesAtMs: sim.sim.now() + MINUTE,
      })),
    );

    const rerun = await startCampaign(
      { store: runtime.store, lanes: runtime.lanes },
      {
        source: listSource(ids),
        scanType: 'Quick',
        comment: 'store loss',
        createdBy: 'test',
        campaignId: id,
      },
    );
    expect(rerun.accepted).toBe(12_000);
    const worker = startRuntimeWorker(runtime, { concurrency: 8, pollActionStatuses: false });
    cleanups.push(() => worker.close());
    await waitFinished(runtime, id, 110_000);

    const scanned = sim.sim.calls().filter((c) => c.family === 'scan' && c.machineId !== null);
    expect(new Set(scanned.map((c) => c.machineId))).toEqual(new Set(ids.slice(11_000)));
    expect(scanned).toHaveLength(1_000);
    const byDevice = new Map(sent.map((a) => [a.machineId, a.id]));
    for (const machineId of ids.slice(0, 11_000).filter((_, n) => n % 500 === 0)) {
      expect((await runtime.store.getDevice(id, machineId))?.machineActionId).toBe(
        byDevice.get(machineId),
      );
    }
    expect((await runtime.store.getCampaign(id))?.counts.requested).toBe(12_000);
  }, 180_000);
});
