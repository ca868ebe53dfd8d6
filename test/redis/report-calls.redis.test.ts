import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { ENDPOINT_FAMILIES } from '../../src/defender/machine-action.js';
import { buildReportData } from '../../src/reports/report-data.js';
import { renderHtml } from '../../src/reports/render-html.js';
import { renderMarkdown } from '../../src/reports/render-markdown.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { readCallTimeline } from '../../src/metrics/call-timeline.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startCampaign, startSimulator, waitFinished } from './scan-fixture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('the report chart', () => {
  it('counts every call made for the campaign (429s, busy answers, lost replies, look-ups), equal to the API log and the export', async () => {
    const prefix = uniquePrefix('report-calls');
    cleanups.push(() => cleanupPrefix(testRedisUrl(), prefix));
    // The API allows 3 per minute (scaled: per 600 ms) where fleetscan is set to 100: 429s.
    const started = await startSimulator({
      fleet: 40,
      seed: 31,
      timeScale: 100,
      latencyMs: [1, 3],
      rateLimits: [{ cap: 3, windowMs: 60_000 }],
      lostRate: 0.1,
      fleetMix: { offline: 0, unsupportedOs: 0, busy: 0.1 },
    });
    cleanups.push(() => started.sim.close());
    const config = scanTestConfig(testRedisUrl(), prefix, started, {
      'limits.adaptive.enabled': false,
    });
    const runtime: Runtime = await buildRuntime(config, { role: 'test' });
    cleanups.push(() => runtime.close());
    const worker = startRuntimeWorker(runtime, { concurrency: 8, pollActionStatuses: false });
    cleanups.push(() => worker.close());
    const id = await startCampaign(
      runtime,
      started.sim.machines.map((m) => m.id),
      'chart',
    );
    await waitFinished(runtime, id, 90_000);
    await worker.close();

    const devices: DeviceRecord[] = [];
    for await (const d of runtime.store.iterateDevices(id)) devices.push(d);
    const data = await buildReportData({
      campaign: (await runtime.store.getCampaign(id))!,
      lifecycle: await createLifecycleStore(runtime.redis, prefix).get(id),
      skipped: {},
      devices: runtime.store.iterateDevices(id),
      windows: config.limits.windows,
      calls: await readCallTimeline(runtime.redis, prefix, id),
      budgetScope: config.limits.budgetScope,
      nowMs: Date.now(),
    });

    // The API's own log, per endpoint family: what the chart must show.
    const apiCalls: Record<string, number> = {};
    for (const call of started.sim.calls()) {
      if (!(ENDPOINT_FAMILIES as readonly string[]).includes(call.family)) continue;
      apiCalls[call.family] = (apiCalls[call.family] ?? 0) + 1;
    }
    expect(started.sim.stats().throttled).toBeGreaterThan(0);
    expect(apiCalls['machineActions']).toBeGreaterThan(0); // look-ups after lost replies
    expect(data.calls.byFamily).toEqual(apiCalls);
    // Every scan call is an attempt in the export; recorded requests alone are far fewer.
    expect(data.calls.byFamily['scan']).toBe(sum(devices.map((d) => d.attempts)));
    const requested = devices.filter((d) => d.state === 'requested').length;
    expect(data.calls.byFamily['scan']).toBeGreaterThan(requested);

    // Each family's chart per window adds up to that family's calls, in buckets of that window.
    expect(data.calls.charts.map((c) => [c.family, c.window])).toEqual(
      ENDPOINT_FAMILIES.filter((f) => apiCalls[f] !== undefined).flatMap((family) =>
        config.limits.windows.map((window) => [family, window]),
      ),
    );
    for (const chart of data.calls.charts) {
      expect(sum(chart.buckets.map((b) => b.total))).toBe(apiCalls[chart.family ?? '']);
      for (const b of chart.buckets) {
        expect(Date.parse(b.start) % chart.window.windowMs).toBe(0);
        expect(Object.keys(b.byFamily)).toEqual([chart.family]);
      }
    }

    // The HTML draws exactly those numbers; the Markdown lists them.
    const html = renderHtml(data);
    expect(html).toContain(`data-total="${String(data.calls.total)}"`);
    const charts = html.split('<svg').slice(1);
    expect(charts).toHaveLength(data.calls.charts.length);
    for (const chart of charts) {
      const family = /data-family="(\w+)"/.exec(chart)?.[1] ?? '';
      const bars = [...chart.matchAll(/data-calls="(\d+)"/g)].map((m) => Number(m[1]));
      expect(sum(bars)).toBe(apiCalls[family]);
    }
    const markdown = renderMarkdown(data);
    expect(markdown).toContain(`| Calls made for the campaign | ${String(data.calls.total)} |`);
    expect(markdown).toContain(`| scan calls | ${String(apiCalls['scan'])} |`);
  }, 150_000);
});
