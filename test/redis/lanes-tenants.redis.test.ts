import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PRIORITIES, type DeviceRecord } from '../../src/campaigns/campaign.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { Config } from '../../src/config/schema.js';
import { createLanes } from '../../src/lanes/lanes.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { clientFromConfig, limiterFromConfig } from '../../src/runtime/api-from-config.js';
import { startScanWorker, type ScanWorker } from '../../src/scan/start-scan-worker.js';
import { createCallStats } from '../../src/metrics/call-stats.js';
import { systemClock } from '../../src/shared/clock.js';
import { createRedis } from '../../src/shared/redis.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import type { TenantRegistry, TenantRuntime } from '../../src/tenants/tenant-registry.js';
import { UnknownTenantError } from '../../src/tenants/tenant-registry.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startCampaign, startSimulator, waitFinished } from './scan-fixture.js';
import { eventually } from './breaker-fixture.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TenantFixture {
  name: string;
  sim: Simulator;
  config: Config;
}

/**
 * Three tenants, each its own simulated Defender tenant (own app, own windows, own fleet) and its
 * own budget, in one registry: what the `tenants:` config list builds.
 */
async function threeTenants(prefix: string, simOptions: Parameters<typeof startSimulator>[0]) {
  const redis = createRedis(testRedisUrl());
  const callStats = createCallStats(redis, prefix);
  const fixtures: TenantFixture[] = [];
  for (const [i, name] of ['contoso', 'fabrikam', 'gcc-agency'].entries()) {
    const sim = await startSimulator({ seed: 11 + i, ...simOptions });
    cleanups.push(async () => {
      await sim.sim.app.close();
      await sim.sim.close();
    });
    const config = scanTestConfig(testRedisUrl(), prefix, sim, {
      'defender.tenantId': `tenant-${name}`,
      'defender.clientId': 'app-1',
      'defender.cloud': i === 2 ? 'gcc-high' : 'commercial',
      'worker.lockDuration': '2s',
    });
    fixtures.push({ name, sim: sim.sim, config });
  }
  const runtimes: TenantRuntime[] = fixtures.map(({ name, config }) => {
    const limiter = limiterFromConfig(config, redis, log);
    const client = clientFromConfig(config, { gate: limiter, callStats, log });
    return {
      name,
      cloud: config.defender.cloud,
      budgetId: budgetIdFor(config),
      limiter,
      client: () => client,
    };
  });
  const names = runtimes.map((t) => t.name);
  const tenants: TenantRegistry = {
    names,
    get: (name) => {
      const found = runtimes.find((t) => t.name === name);
      if (!found) throw new UnknownTenantError(name, names);
      return found;
    },
    list: () => runtimes,
    close: () => undefined,
  };
  const config = fixtures[0]!.config;
  const lanes = createLanes({
    redis,
    prefix,
    tenants,
    reserve: config.limits.reserve,
    deviceLeaseMs: config.worker.lockDuration,
  });
  const store = createCampaignStore(redis, prefix);
  cleanups.push(async () => {
    await cleanupPrefix(testRedisUrl(), prefix);
    redis.disconnect();
  });
  const startWorker = (concurrency = 8) => {
    const subscriber = redis.duplicate();
    const worker: ScanWorker = startScanWorker(
      {
        redis,
        subscriber,
        prefix,
        lanes: lanes.all(),
        store,
        clientFor: (tenant) => tenants.get(tenant).client(),
        log,
        clock: systemClock,
        config,
      },
      { concurrency, pollActionStatuses: false },
    );
    const close = async () => {
      await worker.close();
      subscriber.disconnect();
    };
    cleanups.push(close);
    return { worker, close };
  };
  // `startCampaign` of the fixture takes a runtime; it needs only these parts.
  const runtime = { store, lanes } as unknown as Parameters<typeof startCampaign>[0];
  return { fixtures, tenants, lanes, store, redis, runtime, startWorker };
}

describe('lanes with three tenants', () => {
  it('records exactly one action per device for three tenants and all three classes at once, through 5xx, lost replies and a worker that died', async () => {
    const prefix = uniquePrefix('tenants');
    const t = await threeTenants(prefix, {
      fleet: 45,
      timeScale: 100,
      latencyMs: [1, 5],
      faultRate: 0.05,
      lostRate: 0.05,
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
    });
    // Every tenant gets one campaign per class: 15 devices each.
    const campaigns: { id: string; tenant: string; ids: string[] }[] = [];
    for (const fixture of t.fixtures) {
      const ids = fixture.sim.machines.map((m) => m.id);
      for (const [k, priority] of PRIORITIES.entries()) {
        const slice = ids.slice(k * 15, (k + 1) * 15);
        const id = await startCampaign(t.runtime, slice, 'three tenants', {
          tenant: fixture.name,
          priority,
        });
        campaigns.push({ id, tenant: fixture.name, ids: slice });
      }
    }
    // A process that takes devices of every tenant, marks them sent, calls, and dies before
    // recording (no finish, no lease renewal): what SIGKILL leaves behind.
    let called = 0;
    for (let round = 0; called < 9 && round < 1_000; round++) {
      for (const lane of t.lanes.all()) {
        const result = await lane.dispatch();
        if (!result.grant) continue;
        const { campaignId, machineId, permit } = result.grant;
        const campaign = await t.store.getCampaign(campaignId);
        await t.store.markSent(campaignId, machineId, Date.now());
        await t.tenants
          .get(campaign!.tenant)
          .client()
          .runAntiVirusScan(
            machineId,
            { comment: campaign!.comment, scanType: 'Quick' },
            { permit },
          )
          .catch(() => undefined);
        called++;
      }
    }
    t.startWorker(8);
    t.startWorker(8);
    for (const c of campaigns) await waitFinished(t.runtime, c.id, 60_000);

    for (const fixture of t.fixtures) {
      const created = new Map<string, number>();
      for (const call of fixture.sim.calls()) {
        if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
        created.set(call.machineId, (created.get(call.machineId) ?? 0) + 1);
      }
      for (const m of fixture.sim.machines) expect(created.get(m.id), m.id).toBe(1);
      expect(fixture.sim.stats().throttled).toBe(0);
    }
    for (const c of campaigns) {
      const devices: DeviceRecord[] = [];
      for await (const d of t.store.iterateDevices(c.id)) devices.push(d);
      expect(devices.map((d) => d.state)).toEqual(Array<string>(15).fill('requested'));
    }
  }, 90_000);

  it("starts an urgent campaign within milliseconds while another tenant's budget is held by a 429", async () => {
    const prefix = uniquePrefix('tenants');
    const t = await threeTenants(prefix, {
      fleet: 1_000,
      timeScale: 100,
      latencyMs: [1, 5],
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
    });
    const [a, b] = t.fixtures;
    // Tenant a is held for a long while (a 429 storm); tenant b's sweep saturates its budget.
    await t.tenants.get(a!.name).limiter.throttle('scan', 60_000);
    await startCampaign(
      t.runtime,
      a!.sim.machines.slice(0, 50).map((m) => m.id),
      'held',
      {
        tenant: a!.name,
      },
    );
    const sweepIds = b!.sim.machines.map((m) => m.id);
    await startCampaign(t.runtime, sweepIds.slice(0, 900), 'sweep', { tenant: b!.name });
    t.startWorker(8);
    // The sweep takes all but the reserve of b's minute window (compressed: 600 ms).
    for (;;) {
      const n = b!.sim.calls().filter((c) => c.family === 'scan').length;
      if (n >= 90) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const urgentIds = sweepIds.slice(900, 910);
    const urgentSet = new Set(urgentIds);
    const scanCalls = () => b!.sim.calls().filter((c) => c.family === 'scan');
    await startCampaign(t.runtime, urgentIds, 'incident', { tenant: b!.name, priority: 'urgent' });
    // Sweep calls granted before the urgent devices were in line may still be on their way
    // (at most one per place, 8); every later slot goes to an urgent device first.
    const atEnqueue = scanCalls().length;
    await eventually('every urgent device called', () =>
      Promise.resolve(scanCalls().filter((c) => urgentSet.has(c.machineId ?? '')).length === 10),
    );
    const calls = scanCalls();
    const lastUrgent = calls.findLastIndex((c) => urgentSet.has(c.machineId ?? ''));
    const sweepBetween = calls
      .slice(atEnqueue, lastUrgent)
      .filter((c) => !urgentSet.has(c.machineId ?? '')).length;
    expect(sweepBetween).toBeLessThanOrEqual(8);
    // The held tenant made no scan call at all, and nobody saw a 429.
    expect(a!.sim.calls().filter((c) => c.family === 'scan')).toHaveLength(0);
    for (const f of t.fixtures) expect(f.sim.stats().throttled).toBe(0);
  }, 60_000);
});
