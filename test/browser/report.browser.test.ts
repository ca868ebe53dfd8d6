import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  scanTestConfig,
  startCampaign,
  startSimulator,
  waitFinished,
} from '../redis/scan-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test/artifacts';
const prefix = uniquePrefix('report');
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await cleanupPrefix(testRedisUrl(), prefix);
});

interface ExportRow {
  state: string;
  machineActionId: string | null;
  actionStatus: string | null;
  reason: string | null;
  scanResult: string | null;
  attempts: number;
}

const tally = <T>(rows: readonly T[], key: (row: T) => string | null) => {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const k = key(row);
    if (k !== null) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
};

beforeAll(async () => {
  await ensureBuilt();
  spawnSync(process.execPath, ['scripts/copy-assets.js'], { cwd: packageRoot() });
}, 240_000);

describe('campaign report', () => {
  it('renders in Chromium from a tracked and verified campaign, with the numbers of export', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    // 100x compressed: 100/min becomes 100 per 600 ms; devices report their scans 10-200 ms later.
    const started = await startSimulator({
      fleet: 300,
      timeScale: 100,
      seed: 12,
      latencyMs: [1, 4],
      evidence: { delayMs: [1_000, 20_000] },
    });
    closers.push(() => started.sim.close());
    const config = scanTestConfig(testRedisUrl(), prefix, started, {
      'tracking.interval': '300ms',
      'tracking.lockTtl': '5s',
      'verify.enabled': true,
      'hunting.graphUrl': started.url,
      'hunting.accessToken': started.sim.issueToken({ resource: 'https://graph.microsoft.com' }),
      'hunting.windows': '45/600ms',
    });
    const runtime: Runtime = await buildRuntime(config, { role: 'test' });
    closers.push(() => runtime.close());
    const worker = startRuntimeWorker(runtime, { concurrency: 8 });
    closers.push(() => worker.close());
    const id = await startCampaign(
      runtime,
      started.sim.machines.map((m) => m.id),
      'Weekly quick scan',
    );
    await waitFinished(runtime, id, 60_000);
    const lifecycle = createLifecycleStore(runtime.redis, prefix);
    await expect
      .poll(async () => (await lifecycle.get(id)).settledAt, { timeout: 60_000, interval: 200 })
      .not.toBeNull();
    // verify.enabled: the tracker verified it once settled.
    await expect
      .poll(async () => (await lifecycle.get(id)).verifiedAt, { timeout: 30_000, interval: 200 })
      .not.toBeNull();
    // The last scans report: every planned scan event is due on the simulator's clock.
    await expect
      .poll(
        () =>
          started.sim.actions().every((a) => !a.evidence || a.evidence.atMs <= started.sim.now()),
        { timeout: 30_000, interval: 50 },
      )
      .toBe(true);

    const env = {
      REDIS_URL: testRedisUrl(),
      FLEETSCAN_PREFIX: prefix,
      FLEETSCAN_BUDGET_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      MDE_API_URL: started.url,
      MDE_ACCESS_TOKEN: started.sim.issueToken(),
      GRAPH_API_URL: started.url,
      GRAPH_ACCESS_TOKEN: started.sim.issueToken({ resource: 'https://graph.microsoft.com' }),
      FLEETSCAN_HUNTING_LIMITS: '45/600ms',
      FLEETSCAN_RATE_LIMITS: '100/600ms,1500/36s',
    };
    const verified = await runCli(['verify', id], { env });
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/proved complete \d+ of \d+/);

    const status = await runCli(['status', id], { env });
    expect(status.stdout).toMatch(/proved complete: \d+ of \d+/);

    mkdirSync(ARTIFACTS, { recursive: true });
    const html = join(packageRoot(), ARTIFACTS, 'report.html');
    const written = await runCli(['report', id, '--format', 'html', '--out', html], { env });
    expect(written.code).toBe(0);
    const markdown = await runCli(['report', id], { env });
    const json = await runCli(['report', id, '--json'], { env });
    const data = JSON.parse(json.stdout) as {
      outcomes: Record<string, number>;
      actionStatuses: Record<string, number>;
      failures: Record<string, number>;
      proof: { completed: number; withAction: number; noEvidence: number };
      calls: { total: number; byFamily: Record<string, number> };
    };
    const exported = await runCli(['export', id, '--format', 'json'], { env });
    const rows = JSON.parse(exported.stdout) as ExportRow[];
    expect(rows).toHaveLength(300);

    // The report counts what export lists.
    const withAction = rows.filter((r) => r.state === 'requested' && r.machineActionId !== null);
    expect(data.outcomes).toEqual(tally(rows, (r) => r.state));
    expect(data.failures).toEqual(
      tally(
        rows.filter((r) => r.state === 'failed'),
        (r) => r.reason,
      ),
    );
    expect(data.actionStatuses).toEqual(
      tally(rows, (r) =>
        r.state === 'requested' && r.machineActionId !== null
          ? (r.actionStatus ?? 'unknown')
          : 'none',
      ),
    );
    const proved = withAction.filter((r) => r.scanResult === 'completed').length;
    expect(data.proof).toMatchObject({ completed: proved, withAction: withAction.length });
    expect(proved).toBeGreaterThan(0);
    expect(markdown.stdout).toContain(
      `| Proved complete | ${String(proved)} of ${String(withAction.length)}`,
    );

    // The chart counts every scan call: each one is an attempt in the export.
    const attempts = rows.reduce((n, r) => n + r.attempts, 0);
    expect(data.calls.byFamily['scan']).toBe(attempts);
    expect(attempts).toBeGreaterThanOrEqual(withAction.length);

    // Self-contained: nothing to fetch.
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|<link|@import|url\(|src=/i);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    closers.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(html).href);
    // Verified: the proof, and why the rest is not proved when some are not.
    const headline = (await page.locator('#proved').textContent()) ?? '';
    expect(
      headline.startsWith(`Proved complete: ${String(proved)} of ${String(withAction.length)}`),
    ).toBe(true);
    expect(headline.endsWith(')')).toBe(proved < withAction.length);
    expect(await page.locator('svg rect').count()).toBeGreaterThan(0);
    // Each family's chart per window draws every call of that family.
    expect(await page.locator('#calls').getAttribute('data-total')).toBe(String(data.calls.total));
    const charts = page.locator('#calls svg');
    expect(await charts.count()).toBe(2 * Object.keys(data.calls.byFamily).length);
    for (const chart of await charts.all()) {
      let drawn = 0;
      for (const bar of await chart.locator('g.bar').all()) {
        drawn += Number(await bar.getAttribute('data-calls'));
      }
      expect(drawn).toBe(data.calls.byFamily[(await chart.getAttribute('data-family')) ?? '']);
    }
    expect(requests).toEqual([pathToFileURL(html).href]);
    // Into test/artifacts: docs/report.png is made by `npm run screenshots`, never by a test.
    await page.screenshot({ path: join(packageRoot(), ARTIFACTS, 'report.png'), fullPage: true });
  }, 360_000);
});
