import { pino } from 'pino';
import type { TokenProvider } from '../../src/auth/token-provider.js';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { Config } from '../../src/config/schema.js';
import { createDefenderClient, type DefenderClient } from '../../src/defender/client.js';
import { breakerSettings, type BreakerChange } from '../../src/lanes/budget-breaker.js';
import { createLanes } from '../../src/lanes/lanes.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { limiterFromConfig } from '../../src/runtime/api-from-config.js';
import { startScanWorker } from '../../src/scan/start-scan-worker.js';
import { systemClock } from '../../src/shared/clock.js';
import { createRedis } from '../../src/shared/redis.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import {
  UnknownTenantError,
  type TenantRegistry,
  type TenantRuntime,
} from '../../src/tenants/tenant-registry.js';
import { cleanupPrefix, testRedisUrl } from '../helpers/redis.js';
import { scanTestConfig, startSimulator } from './scan-fixture.js';

const log = pino({ level: 'silent' });

export interface BreakerTenant {
  name: string;
  sim: Simulator;
  url: string;
  config: Config;
}

/** Compressed probe timings: first probe after 50 ms, at most every 400 ms. */
export const FAST_PROBES = {
  'limits.breaker.probeMin': '50ms',
  'limits.breaker.probeMax': '400ms',
};

/**
 * Tenants, each its own simulator and budget, sharing one lane set and one campaign store; a
 * worker gets the token providers it is started with (a restarted worker reads a fixed secret).
 */
export async function breakerTenants(
  prefix: string,
  names: readonly string[],
  simOptions: (name: string) => Parameters<typeof startSimulator>[0],
  cleanups: (() => Promise<void>)[],
) {
  const redis = createRedis(testRedisUrl());
  const tenants: BreakerTenant[] = [];
  for (const name of names) {
    const sim = await startSimulator({
      timeScale: 100,
      latencyMs: [1, 3],
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
      clientId: `app-${name}`,
      ...simOptions(name),
    });
    cleanups.push(async () => {
      await sim.sim.app.close();
      await sim.sim.close();
    });
    const config = scanTestConfig(testRedisUrl(), prefix, sim, {
      'defender.tenantId': sim.sim.credentials.tenantId,
      'defender.clientId': sim.sim.credentials.clientId,
      'worker.lockDuration': '2s',
      ...FAST_PROBES,
    });
    tenants.push({ name, sim: sim.sim, url: sim.url, config });
  }
  const runtimes: TenantRuntime[] = tenants.map(({ name, config }) => ({
    name,
    cloud: config.defender.cloud,
    budgetId: budgetIdFor(config),
    limiter: limiterFromConfig(config, redis, log),
    client: () => {
      throw new Error('clients come with each worker');
    },
  }));
  const names_ = runtimes.map((t) => t.name);
  const registry: TenantRegistry = {
    names: names_,
    get: (name) => {
      const found = runtimes.find((t) => t.name === name);
      if (!found) throw new UnknownTenantError(name, names_);
      return found;
    },
    list: () => runtimes,
    close: () => undefined,
  };
  const config = (tenants[0] as BreakerTenant).config;
  const lanes = createLanes({
    redis,
    prefix,
    tenants: registry,
    reserve: [],
    deviceLeaseMs: config.worker.lockDuration,
    breaker: breakerSettings(config),
  });
  const store = createCampaignStore(redis, prefix);
  cleanups.push(async () => {
    await cleanupPrefix(testRedisUrl(), prefix);
    redis.disconnect();
  });
  const changes: { budgetId: string; change: BreakerChange }[] = [];

  /** A worker whose clients use `tokens` per tenant name. */
  const startWorker = (tokens: Record<string, TokenProvider>, concurrency = 8) => {
    const clients = new Map<string, DefenderClient>();
    for (const t of tenants) {
      const provider = tokens[t.name];
      if (!provider) throw new Error(`no tokens for ${t.name}`);
      clients.set(
        t.name,
        createDefenderClient({
          apiUrl: t.url,
          tokens: provider,
          gate: registry.get(t.name).limiter,
          timeoutMs: t.config.defender.requestTimeout,
          pageSize: 100,
          throttleDefaultMs: t.config.limits.throttleDefault,
          log,
        }),
      );
    }
    const subscriber = redis.duplicate();
    const worker = startScanWorker(
      {
        redis,
        subscriber,
        prefix,
        lanes: lanes.all(),
        store,
        clientFor: (tenant) => {
          const client = clients.get(tenant);
          if (!client) throw new UnknownTenantError(tenant, names_);
          return client;
        },
        log,
        clock: systemClock,
        config,
        onBreakerChange: (lane, change) => {
          changes.push({ budgetId: lane.budgetId, change });
          return Promise.resolve();
        },
      },
      { concurrency, pollActionStatuses: false },
    );
    let closed: Promise<void> | undefined;
    const close = () => {
      closed ??= (async () => {
        await worker.close();
        subscriber.disconnect();
        for (const client of clients.values()) client.close();
      })();
      return closed;
    };
    cleanups.push(close);
    return { worker, close };
  };

  const devicesOf = async (campaignId: string): Promise<DeviceRecord[]> => {
    const devices: DeviceRecord[] = [];
    for await (const device of store.iterateDevices(campaignId)) devices.push(device);
    return devices;
  };
  // `startCampaign` of the scan fixture takes a runtime; it needs only these parts.
  const runtime = { store, lanes } as unknown as Parameters<
    typeof import('./scan-fixture.js').startCampaign
  >[0];
  return { tenants, registry, lanes, store, redis, runtime, startWorker, devicesOf, changes };
}

/** Actions created by scan calls, per device, from the simulator's own log. */
export function actionsPerDevice(sim: Simulator): Map<string, number> {
  const perDevice = new Map<string, number>();
  for (const call of sim.calls()) {
    if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
    perDevice.set(call.machineId, (perDevice.get(call.machineId) ?? 0) + 1);
  }
  return perDevice;
}

/** Polls `check` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
