import { afterEach, describe, expect, it } from 'vitest';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { isInsideWindow, nextOpening } from '../../src/schedules/dispatch-window.js';
import { scheduleClockFrom } from '../../src/runtime/runtime-schedules.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator, waitFinished } from './scan-fixture.js';

const SCALE = 3_600; // a day in 24 s, an hour in 1 s
const MIN = 60_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

describe('dispatch window over a compressed day (simulator)', () => {
  it('makes no scan call outside the window and resumes the waiting devices at each opening', async () => {
    const prefix = uniquePrefix('window');
    const sim = await startSimulator({
      timeScale: 100,
      latencyMs: [1, 3],
      fleet: 20,
      fleetMix: { inactive: 0, excluded: 0, duplicate: 0, unsupportedOs: 0, offline: 0, busy: 0 },
    });
    cleanups.push(async () => {
      await sim.sim.app.close();
      await sim.sim.close();
    });
    const origin = Date.now();
    const config = scanTestConfig(testRedisUrl(), prefix, sim, {
      // Slow enough that one 3-hour window (3 s real) cannot take every device.
      'limits.windows': '4/1s,1500/36s',
      'limits.reserve': 0,
      'schedules.timeScale': SCALE,
      'schedules.timeOrigin': origin,
    });
    const clock = scheduleClockFrom(config);
    const start = Math.ceil((clock.now() + 2 * 60 * MIN) / MIN) * MIN;
    const window = { start: hhmm(start), end: hhmm(start + 3 * 60 * MIN), tz: 'UTC' };
    const runtime = await buildRuntime(config, { role: 'test' });
    cleanups.push(async () => {
      await runtime.close();
      await cleanupPrefix(testRedisUrl(), prefix);
    });
    const ids = sim.sim.machines.map((m) => m.id);
    const campaignId = newCampaignId();
    await runtime.store.createCampaign({
      id: campaignId,
      name: 'windowed',
      scanType: 'Quick',
      comment: `windowed [fleetscan:${campaignId}]`,
      createdAt: Date.now(),
      createdBy: 'test',
      source: 'test',
      tenant: 'default',
      priority: 'normal',
      window,
      schedule: null,
    });
    await enqueueDevices({
      lanes: runtime.lanes,
      store: runtime.store,
      campaign: campaignId,
      ids: (async function* () {
        await Promise.resolve();
        yield ids;
      })(),
    });
    const worker = startRuntimeWorker(runtime, {
      concurrency: 4,
      pollActionStatuses: false,
    });
    cleanups.push(() => worker.close());
    await waitFinished(runtime, campaignId, 60_000);

    const toScheduled = (realMs: number) => origin + (realMs - origin) * SCALE;
    const scans = sim.sim
      .calls()
      .filter((c) => c.family === 'scan')
      .map((c) => toScheduled(c.t));
    expect(scans.length).toBe(ids.length);
    // The gate is read a moment before the call leaves (markSent, the HTTP request): allow
    // 200 ms real (12 scheduled minutes) for that on a loaded machine.
    const slack = 200 * SCALE;
    for (const t of scans) {
      expect(isInsideWindow(window, t) || isInsideWindow(window, t - slack)).toBe(true);
    }
    const firstOpening = nextOpening(window, origin);
    const secondOpening = firstOpening + 24 * 60 * MIN;
    const firstDay = scans.filter((t) => t < secondOpening);
    const secondDay = scans.filter((t) => t >= secondOpening);
    expect(firstDay.length).toBeGreaterThan(0);
    expect(secondDay.length).toBeGreaterThan(0); // some had to wait a day
    // Waiting devices start at the opening: within 1 s real (an hour of the 3-hour window).
    expect(Math.min(...firstDay) - firstOpening).toBeLessThan(60 * MIN);
    expect(Math.min(...secondDay) - secondOpening).toBeLessThan(60 * MIN);
    expect(Math.min(...firstDay)).toBeGreaterThanOrEqual(firstOpening);
    const campaign = await runtime.store.getCampaign(campaignId);
    expect(campaign?.counts.requested).toBe(ids.length);
  }, 90_000);
});
