import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { buildReportData } from '../../src/reports/report-data.js';
import { renderHtml } from '../../src/reports/render-html.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { decodeLifecycle } from '../../src/tracking/lifecycle-store.js';

const CHROMIUM = '/usr/bin/chromium';
const T = Date.parse('2026-12-07T14:20:00Z');
const MINUTE = 60_000;
let browser: Browser;

/** What the tests read of elements (no DOM types here). */
interface El {
  id: string;
  textContent: string | null;
  scrollWidth: number;
  clientWidth: number;
  getClientRects(): { length: number };
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);
afterAll(async () => {
  await browser.close();
});

const device = (i: number, over: Partial<DeviceRecord>): DeviceRecord => ({
  machineId: i.toString(16).padStart(40, '0'),
  state: 'requested',
  machineActionId: `a-${String(i)}`,
  actionStatus: 'Cancelled',
  reason: null,
  attempts: 1,
  requestedAt: T + i * 100,
  joinedExisting: false,
  sentAt: null,
  deferredUntil: null,
  firstBusyAt: null,
  cancelResult: 'cancelled',
  ...over,
});

/** The campaign of the issue: 87 requested, the kill switch, 213 never called, never verified. */
async function cancelledReport(): Promise<string> {
  const devices = [
    ...Array.from({ length: 87 }, (_, i) => device(i, {})),
    ...Array.from({ length: 213 }, (_, i) =>
      device(100 + i, {
        state: 'cancelled',
        machineActionId: null,
        actionStatus: null,
        cancelResult: null,
      }),
    ),
  ];
  const data = await buildReportData({
    campaign: {
      id: 'c-mhx1y2z3a1b2',
      name: 'Kill switch drill',
      scanType: 'Quick',
      comment: 'Kill switch drill [fleetscan:c-mhx1y2z3a1b2]',
      createdAt: T,
      createdBy: 'soc-oncall@fabrikam.example',
      source: "query:osPlatform eq 'Windows10' tag:drill",
      tenant: 'fabrikam',
      priority: 'normal',
      window: null,
      schedule: null,
      state: 'cancelled',
      finishedAt: T + 6 * MINUTE,
      total: 300,
      counts: { queued: 0, deferred: 0, requested: 87, failed: 0, cancelled: 213 },
      joinedExisting: 0,
      failuresByReason: {},
      deferrals: 0,
    },
    lifecycle: decodeLifecycle({}),
    skipped: { inactive: 9, excluded: 2 },
    devices: (async function* () {
      await Promise.resolve();
      yield* devices;
    })(),
    windows: [
      { cap: 100, windowMs: MINUTE },
      { cap: 1500, windowMs: 6 * MINUTE },
    ],
    calls: [
      { family: 'scan', startMs: T, bucketMs: MINUTE, calls: 87 },
      { family: 'cancel', startMs: T + 4 * MINUTE, bucketMs: MINUTE, calls: 89 },
      { family: 'machineActions', startMs: T + 4 * MINUTE, bucketMs: MINUTE, calls: 89 },
    ],
    budgetScope: 'family',
    nowMs: T + 10 * MINUTE,
  });
  const dir = join(packageRoot(), 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'report-cancelled.html');
  writeFileSync(file, renderHtml(data));
  return pathToFileURL(file).href;
}

describe('the report in Chromium', () => {
  it.each([1100, 760])(
    'headlines a cancelled campaign truthfully and breaks no timestamp, id or address at %i px',
    async (width) => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(await cancelledReport());
      // Times are joined by non-breaking spaces.
      const state = (await page.locator('#state').innerText()).replace(/\u00a0/g, ' ');
      expect(state).toMatch(
        /^Cancelled at 2026-12-07 14:26:00 UTC: 87 of 300 devices got a scan request, 213 never did$/,
      );
      expect(await page.locator('#kill-switch').innerText()).toBe(
        'Kill switch cancelled 87 actions in Defender (0 already finished, 0 refused)',
      );
      expect(await page.locator('#proved').innerText()).toMatch(/^Not verified: 87 scans/);
      // Each timestamp, id and address is drawn on one line.
      const unbroken = await page
        .locator('time, .nowrap')
        .evaluateAll((els: El[]) =>
          els.map((el) => ({ text: el.textContent, lines: el.getClientRects().length })),
        );
      expect(unbroken.length).toBeGreaterThan(10);
      expect(unbroken.filter((e) => e.lines !== 1)).toEqual([]);
      // Nothing sticks out of its card.
      const overflowing = await page
        .locator('section')
        .evaluateAll((els: El[]) =>
          els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.id),
        );
      expect(overflowing).toEqual([]);
      await page.close();
    },
  );

  it('draws each family against its own cap, with axis labels from start to end', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(await cancelledReport());
    const charts = await page.locator('#calls svg').evaluateAll((svgs: El[]) =>
      svgs.map((svg) => ({
        family: svg.getAttribute('data-family'),
        cap: Number(svg.getAttribute('data-cap')),
        busiest: Math.max(
          ...Array.from(svg.querySelectorAll('g.bar'), (g) => Number(g.getAttribute('data-calls'))),
        ),
        start: svg.querySelector('.axis-start')?.textContent,
        end: svg.querySelector('.axis-end')?.textContent,
      })),
    );
    expect(charts.map((c) => c.family)).toEqual([
      'scan',
      'scan',
      'machineActions',
      'machineActions',
      'cancel',
      'cancel',
    ]);
    // The kill switch's 89 cancels and 89 look-ups each stay under their own cap of 100.
    for (const chart of charts) expect(chart.busiest).toBeLessThanOrEqual(chart.cap);
    for (const chart of charts) expect(chart.end).not.toBe(chart.start);
    // The 6-minute chart of one bucket runs from its start to its end.
    expect(charts[1]).toMatchObject({ start: '14:18:00 UTC', end: '14:24:00 UTC' });
    await page.close();
  });
});
