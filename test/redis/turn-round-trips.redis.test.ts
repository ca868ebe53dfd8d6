import { afterEach, describe, expect, it } from 'vitest';
import { Redis as SingleRedis } from 'ioredis';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { duplicateRedis } from '../../src/shared/redis.js';
import { startScanWorker } from '../../src/scan/start-scan-worker.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { countWrites, luaScriptNames, watchMonitor } from '../helpers/redis-round-trips.js';
import { scanTestConfig, startCampaign, startSimulator, waitFinished } from './scan-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Devices of the measured campaign: enough that the one campaign read is lost in the mean. */
const DEVICES = 24;

/**
 * Issue 26, item 4: the Redis round trips of a device's turn on the happy path (the device is
 * dispatched, marked sent, called, its slot settled, its action recorded, its turn finished).
 *
 * Counting rule: one round trip is one write of the worker's command connection to its socket,
 * i.e. one request the worker then waits for. Commands sent together count once: a pipeline
 * (ioredis auto-pipelines the commands issued in one tick into one write) and a Lua script (one
 * EVALSHA, however many commands it runs inside Redis). Fire-and-forget commands that ride in
 * such a write (the call statistics' HINCRBYs) add nothing; one written alone would count.
 * The worker runs one device at a time (concurrency 1), so no write carries two devices' turns,
 * and no background work shares the connection: no action tracker, no store watch, a device
 * lease far longer than the run (no renewal), a campaign cache longer than the run (the
 * campaign is read once, at the first turn: the `+ 1`).
 */
describe('the round trips of a device turn (real Redis, real simulator, real client)', () => {
  it('costs at most 4 awaited Redis round trips per device, none of them INFO', async () => {
    const prefix = uniquePrefix('turn-rt');
    const sim = await startSimulator({
      timeScale: 100,
      latencyMs: [1, 3],
      fleet: DEVICES,
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 },
    });
    cleanups.push(async () => {
      await sim.sim.app.close();
      await sim.sim.close();
    });
    const runtime = await buildRuntime(
      scanTestConfig(testRedisUrl(), prefix, sim, {
        'worker.lockDuration': '10m',
        'limits.windows': '1000/600ms,15000/36s',
        'limits.reserve': 0,
      }),
      { role: 'test' },
    );
    cleanups.push(async () => {
      await runtime.close();
      await cleanupPrefix(testRedisUrl(), prefix);
    });
    const ids = sim.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(runtime, ids);

    const redis = runtime.redis;
    if (!(redis instanceof SingleRedis)) throw new Error('expected a single Redis connection');
    const names = luaScriptNames();
    const writes = countWrites(redis);
    const monitor = await watchMonitor(testRedisUrl(), redis);
    cleanups.push(async () => {
      await monitor.stop();
    });
    const subscriber = duplicateRedis(redis, 'fleetscan-wake');
    const worker = startScanWorker(
      {
        redis,
        subscriber,
        prefix,
        lanes: runtime.lanes.all(),
        store: runtime.store,
        clientFor: (tenant) => runtime.tenants.get(tenant).client(),
        log: runtime.log,
        clock: runtime.clock,
        config: runtime.config,
        campaignCacheMs: 600_000,
      },
      { concurrency: 1, pollActionStatuses: false },
    );
    cleanups.push(async () => {
      await worker.close();
      subscriber.disconnect();
    });

    // Polled on a connection of its own: the worker's connection carries the turns only.
    const poller = new SingleRedis(testRedisUrl());
    cleanups.push(async () => {
      poller.disconnect();
      await Promise.resolve();
    });
    const done = async () => {
      const state = await poller.hget(`${prefix}:campaign:{${campaignId}}`, 'state');
      return state === 'finished';
    };
    for (let i = 0; !(await done()); i++) {
      if (i > 600) throw new Error('campaign not finished within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The last turn's finish may still be on its way after the campaign finished.
    await worker.close();
    const batches = writes.stop();
    const commands = await monitor.stop();

    await waitFinished(runtime, campaignId);
    const scans = sim.sim.calls().filter((c) => c.family === 'scan' && c.actionId !== null);
    expect(scans).toHaveLength(DEVICES);

    const describeBatch = (batch: readonly string[][]) =>
      batch.map(([name = '', sha = '']) => (name === 'evalsha' ? (names.get(sha) ?? sha) : name));
    const perDevice = batches.length / DEVICES;
    console.info(
      `round trips: ${String(batches.length)} for ${String(DEVICES)} devices (${perDevice.toFixed(2)} per device); commands: ${String(batches.flat().length)}; first turns: ${JSON.stringify(batches.slice(0, 8).map(describeBatch))}`,
    );
    expect(batches.length).toBeLessThanOrEqual(4 * DEVICES + 1);
    // MONITOR shows what the scripts run inside Redis too: no INFO for any turn (the store
    // read the server's run_id once, when its connection opened, before this run).
    expect(commands.filter((c) => c.name === 'info')).toEqual([]);
    expect(commands.filter((c) => c.name === 'evalsha').length).toBeGreaterThanOrEqual(4 * DEVICES);
  });
});
