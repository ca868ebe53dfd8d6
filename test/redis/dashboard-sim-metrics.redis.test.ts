import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { ScanWorker } from '../../src/scan/start-scan-worker.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startCampaign, startSimulator, waitFinished } from './scan-fixture.js';

const TOKEN = 'sim-metrics-token';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function sample(text: string, name: string, labels: Record<string, string>): number {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('/metrics against the simulator', () => {
  it('counts the same API calls, by family and status, as the simulator logged', async () => {
    const prefix = uniquePrefix('simmetrics');
    const started = await startSimulator({
      fleet: 150,
      timeScale: 100,
      faultRate: 0.05,
      latencyMs: [1, 4],
      seed: 11,
    });
    const sim: Simulator = started.sim;
    closers.push(
      () => sim.close(),
      () => sim.app.close(),
    );
    const config = scanTestConfig(testRedisUrl(), prefix, started);
    const runtime: Runtime = await buildRuntime(config, { role: 'test' });
    closers.push(
      () => cleanupPrefix(testRedisUrl(), prefix),
      () => runtime.close(),
    );
    const app: FastifyInstance = await buildDashboard({
      store: runtime.store,
      redis: runtime.redis,
      stats: runtime.callStats,
      budgets: [{ id: budgetIdFor(config), usage: () => runtime.limiter.usage() }],
      credentials: { token: TOKEN },
      allowActions: false,
      requireNoEviction: true,
    });
    closers.push(() => app.close());
    const worker: ScanWorker = startRuntimeWorker(runtime, {
      concurrency: 8,
      pollActionStatuses: false,
    });
    closers.push(() => worker.close());

    const campaignId = await startCampaign(
      runtime,
      sim.machines.map((m) => m.id),
    );
    await waitFinished(runtime, campaignId);
    await worker.close();
    await runtime.redis.ping(); // the fire-and-forget counters were sent on this connection first

    const text = (
      await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    ).body;
    const logged = new Map<string, number>();
    for (const call of sim.calls()) {
      if (call.family === 'entra' || call.family === 'unrouted') continue;
      const key = `${call.family}|${call.status}`;
      logged.set(key, (logged.get(key) ?? 0) + 1);
    }
    expect([...logged.keys()].some((k) => k.startsWith('scan|5'))).toBe(true); // faults happened
    for (const [key, count] of logged) {
      const [family = '', status = ''] = key.split('|');
      expect(sample(text, 'fleetscan_api_calls_total', { family, status }), key).toBe(count);
    }
    expect(sample(text, 'fleetscan_api_throttled_total', { family: 'scan' })).toBe(
      sim.stats().throttled,
    );
    // The client's time in calls includes the server's time answering them.
    const serverScanMs = sim
      .calls()
      .filter((call) => call.family === 'scan')
      .reduce((sum, call) => sum + call.durationMs, 0);
    const scanSeconds = sample(text, 'fleetscan_api_call_seconds_total', { family: 'scan' });
    expect(scanSeconds).toBeGreaterThan(0);
    expect(scanSeconds).toBeGreaterThanOrEqual((0.9 * serverScanMs) / 1_000);

    const campaign = await runtime.store.getCampaign(campaignId);
    for (const [state, n] of Object.entries(campaign!.counts)) {
      expect(
        sample(text, 'fleetscan_campaign_devices', { campaign: campaignId, state }),
        state,
      ).toBe(n);
    }
  });
});
