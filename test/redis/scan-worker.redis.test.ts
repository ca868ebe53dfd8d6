import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { BudgetLane } from '../../src/lanes/budget-lane.js';
import { startScanWorker, type ScanWorker } from '../../src/scan/start-scan-worker.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startCampaign, startSimulator, waitFinished } from './scan-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  simOptions: Parameters<typeof startSimulator>[0],
  overrides: Record<string, unknown> = {},
) {
  const prefix = uniquePrefix('scan');
  const sim = await startSimulator({ timeScale: 100, latencyMs: [1, 5], ...simOptions });
  cleanups.push(async () => {
    await sim.sim.app.close();
    await sim.sim.close();
  });
  const runtime = await buildRuntime(scanTestConfig(testRedisUrl(), prefix, sim, overrides), {
    role: 'test',
  });
  cleanups.push(async () => {
    await runtime.close();
    await cleanupPrefix(testRedisUrl(), prefix);
  });
  const workers: ScanWorker[] = [];
  const start = (settings: Partial<Parameters<typeof startRuntimeWorker>[1]> = {}) => {
    const worker = startRuntimeWorker(runtime, {
      concurrency: 8,
      ...settings,
    });
    workers.push(worker);
    return worker;
  };
  cleanups.push(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });
  return { sim: sim.sim, runtime, start };
}

async function devicesOf(runtime: Runtime, campaignId: string): Promise<Map<string, DeviceRecord>> {
  const devices = new Map<string, DeviceRecord>();
  for await (const device of runtime.store.iterateDevices(campaignId))
    devices.set(device.machineId, device);
  return devices;
}

/** Actions created by scan calls of this campaign, per device, from the simulator's own log. */
function actionsPerDevice(sim: Simulator): Map<string, string[]> {
  const perDevice = new Map<string, string[]>();
  for (const call of sim.calls()) {
    if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
    perDevice.set(call.machineId, [...(perDevice.get(call.machineId) ?? []), call.actionId]);
  }
  return perDevice;
}

describe('scan worker (real Redis, real simulator)', () => {
  it.each([
    ['a budget per endpoint family', 'family'],
    ['one budget shared by every endpoint', 'shared'],
  ] as const)(
    'records exactly one action per device despite 5xx and lost replies, with %s',
    async (_title, budgetScope) => {
      const t = await setup(
        {
          fleet: 120,
          faultRate: 0.05,
          lostRate: 0.05,
          budgetScope,
          fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
        },
        { 'limits.budgetScope': budgetScope },
      );
      t.start();
      const ids = t.sim.machines.map((m) => m.id);
      const campaignId = await startCampaign(t.runtime, ids);
      await waitFinished(t.runtime, campaignId);

      const devices = await devicesOf(t.runtime, campaignId);
      const created = actionsPerDevice(t.sim);
      for (const id of ids) {
        expect(created.get(id), id).toHaveLength(1);
        expect(devices.get(id)).toMatchObject({
          state: 'requested',
          machineActionId: created.get(id)?.[0],
        });
      }
      expect(t.sim.stats().lostReplies).toBeGreaterThan(0);
      // Lost replies made the workers look their actions up (machineActions calls).
      expect(t.sim.stats().byFamily.machineActions).toBeGreaterThan(0);
      expect(t.sim.stats().throttled).toBe(0);
    },
  );

  it('spends no attempt on rate limits or busy devices', async () => {
    // One attempt only: any rate limit or busy answer that spent one would fail its device.
    const t = await setup(
      {
        fleet: 80,
        fleetMix: {
          busy: 0.1,
          offline: 0,
          unsupportedOs: 0,
          inactive: 0,
          excluded: 0,
          duplicate: 0,
        },
      },
      { 'scan.attempts': 1, 'limits.windows': '10/200ms,1500/36s', 'limits.reserve': 0 },
    );
    t.start({ concurrency: 4 });
    const ids = t.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(t.runtime, ids);
    await waitFinished(t.runtime, campaignId);

    const campaign = await t.runtime.store.getCampaign(campaignId);
    expect(campaign?.counts).toMatchObject({ requested: ids.length, failed: 0 });
    expect(campaign?.deferrals).toBeGreaterThan(0);
    expect(t.sim.stats().throttled).toBe(0);
  });

  it('finishes and records the calls in flight when closed mid-run', async () => {
    const t = await setup({
      fleet: 200,
      latencyMs: [150, 250],
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
    });
    const worker = t.start({ concurrency: 16 });
    const ids = t.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(t.runtime, ids);
    for (;;) {
      const campaign = await t.runtime.store.getCampaign(campaignId);
      if ((campaign?.counts.requested ?? 0) >= 20) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await worker.close(); // what SIGTERM does

    const devices = await devicesOf(t.runtime, campaignId);
    const created = actionsPerDevice(t.sim);
    expect(created.size).toBeLessThan(ids.length); // it did stop part-way
    for (const [machineId, actionIds] of created) {
      expect(devices.get(machineId)?.machineActionId, machineId).toBe(actionIds[0]);
    }
    const unrecorded = [...devices.values()].filter(
      (d) => d.sentAt !== null && d.state !== 'requested',
    );
    expect(unrecorded).toEqual([]);
  });

  it('sleeps through a paused budget instead of asking the limiter again and again', async () => {
    const t = await setup({ fleet: 20, fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 } });
    await t.runtime.limiter.throttle('scan', 2_000); // as after a 429 with Retry-After: 2
    let asks = 0;
    const lane = t.runtime.lanes.forTenant('default');
    const counting: BudgetLane = {
      ...lane,
      dispatch: () => {
        asks++;
        return lane.dispatch();
      },
    };
    const subscriber = t.runtime.redis.duplicate();
    const worker = startScanWorker(
      {
        redis: t.runtime.redis,
        subscriber,
        prefix: t.runtime.config.redis.prefix,
        lanes: [counting],
        store: t.runtime.store,
        clientFor: () => t.runtime.api().client,
        log: t.runtime.log,
        clock: t.runtime.clock,
        config: t.runtime.config,
      },
      { concurrency: 8, pollActionStatuses: false },
    );
    try {
      const campaignId = await startCampaign(
        t.runtime,
        t.sim.machines.map((m) => m.id),
      );
      await waitFinished(t.runtime, campaignId);
    } finally {
      await worker.close();
      subscriber.disconnect();
    }
    // 20 grants, a refusal per wake-up and per finished turn: a worker polling the budget
    // through 2 s would have asked hundreds of times.
    expect(asks).toBeLessThanOrEqual(20 * 2 + 8);
  });

  it('gives back the devices of a worker that died holding them, without a second action', async () => {
    const t = await setup(
      { fleet: 30, fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 } },
      // Long enough that a live worker on a loaded host renews in time; the dead one's run out.
      { 'worker.lockDuration': '2s' },
    );
    const { client } = t.runtime.api();
    const lane = t.runtime.lanes.forTenant('default');
    const ids = t.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(t.runtime, ids);
    // A process that takes 10 devices, marks them sent, calls, then dies before recording.
    const campaign = await t.runtime.store.getCampaign(campaignId);
    for (let called = 0; called < 10;) {
      const result = await lane.dispatch();
      if (!result.grant) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, result.waitMs)));
        continue;
      }
      const { machineId, permit } = result.grant;
      await t.runtime.store.markSent(campaignId, machineId, Date.now());
      await client.runAntiVirusScan(
        machineId,
        { comment: campaign!.comment, scanType: 'Quick' },
        { permit },
      );
      called++;
    }
    t.start();
    await waitFinished(t.runtime, campaignId);

    const devices = await devicesOf(t.runtime, campaignId);
    const created = actionsPerDevice(t.sim);
    for (const id of ids) {
      expect(created.get(id) ?? [], id).toHaveLength(1);
      expect(devices.get(id)?.machineActionId).toBe(created.get(id)?.[0]);
    }
    expect([...devices.values()].filter((d) => d.attempts > 1)).toHaveLength(0);
  });

  it('never leaves a device queued without work when its final-failure bookkeeping fails or the worker stops (defect 4)', async () => {
    const t = await setup({ fleet: 12, fleetMix: { offline: 0, busy: 0, unsupportedOs: 1 } });
    const lane = t.runtime.lanes.forTenant('default');
    const store = t.runtime.store;
    // Redis refuses the first final failures, as a blip or a SIGTERM right after the reply would.
    const markFailed = store.markFailed.bind(store);
    let refusals = 4;
    store.markFailed = (campaignId, machineId, reason) =>
      refusals-- > 0
        ? Promise.reject(new Error('Connection is closed.'))
        : markFailed(campaignId, machineId, reason);
    const ids = t.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(t.runtime, ids);
    const first = t.start({ concurrency: 2 });
    await expect.poll(() => refusals, { timeout: 20_000 }).toBeLessThan(0);
    await first.close();

    // Stopped mid-run: every device still waiting has its place in the lane (ready, due or
    // held by a process), so a worker will come back to it.
    const members = new Set([
      ...(await t.runtime.redis.zrange(lane.keys.due, 0, -1)),
      ...(await t.runtime.redis.zrange(lane.keys.active, 0, -1)),
      ...(await t.runtime.redis.zrange(lane.keys.readyPrefix + campaignId, 0, -1)).map(
        (machineId) => `${campaignId}.${machineId}`,
      ),
    ]);
    for (const device of (await devicesOf(t.runtime, campaignId)).values()) {
      if (device.state === 'queued' || device.state === 'deferred')
        expect(members.has(`${campaignId}.${device.machineId}`), device.machineId).toBe(true);
    }

    t.start();
    await waitFinished(t.runtime, campaignId);
    const campaign = await store.getCampaign(campaignId);
    expect(campaign?.counts).toMatchObject({ failed: 12, queued: 0, deferred: 0 });
  });
});
