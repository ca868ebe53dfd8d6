import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer, type DashboardServer } from '../../src/runtime/dashboard-server.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startCampaign, startSimulator } from '../redis/scan-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = `live-test-token-${randomBytes(16).toString('hex')}`;
const VIEWERS = 50;
/** Chromium pages (one per context); each opens streams until VIEWERS are connected. */
const PAGES = 10;
const poll = { timeout: 60_000, interval: 250 };
/** `dashboard.liveInterval` here; each window below spans this many intervals. */
const INTERVAL_MS = 1_000;
const WINDOW_INTERVALS = 6;

const prefix = uniquePrefix('live');
/** The dashboard's connections are named after this role, so its commands can be told apart. */
const role = `live-dash-${randomBytes(4).toString('hex')}`;
const closers: (() => Promise<unknown>)[] = [];
let sim: Simulator;
let runtime: Runtime;
let server: DashboardServer;
let browser: Browser;
let monitor: Socket;
/** Commands the dashboard process sent, as MONITOR saw them (Redis's own count). */
const commands: { at: number; name: string }[] = [];

/** Every connection named `fleetscan-<role>…`, by address, as CLIENT LIST shows them. */
async function dashboardAddresses(): Promise<Set<string>> {
  const admin = new Redis(testRedisUrl());
  try {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const ours = list
      .split('\n')
      .filter((line) => line.includes(` name=fleetscan-${role}`))
      .map((line) => /(?:^| )addr=(\S+)/.exec(line)?.[1] ?? '');
    return new Set(ours.filter((addr) => addr !== ''));
  } finally {
    admin.disconnect();
  }
}

/** Commands of the dashboard during `intervals` live intervals from now. */
async function countDuring(intervals: number): Promise<number> {
  const from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, intervals * INTERVAL_MS));
  const to = Date.now();
  return commands.filter((c) => c.at >= from && c.at < to).length;
}

/** A browser context signed in with the token: its own cookies and its own connections. */
async function signedIn(): Promise<BrowserContext> {
  return browser.newContext({
    httpCredentials: { username: 'ops', password: TOKEN },
    viewport: { width: 1280, height: 900 },
  });
}

/** Opens the overview in a new page of `context`. */
async function openPage(
  context: BrowserContext,
  url: string,
  options: { withoutEventSource?: boolean } = {},
): Promise<Page> {
  const page = await context.newPage();
  if (options.withoutEventSource) {
    await page.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'EventSource');
    });
  }
  const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  expect(response?.status()).toBe(200);
  return page;
}

/** What the extra streams of a page count (no DOM types in the tests' compiler settings). */
interface StreamCounter {
  EventSource: new (url: string) => { addEventListener(type: string, listener: () => void): void };
  liveUpdates: number[];
}

/** Opens `n` more streams of the overview in `page`, each counting its updates. */
async function openStreams(page: Page, n: number): Promise<void> {
  await page.evaluate((count) => {
    const g = globalThis as unknown as StreamCounter;
    g.liveUpdates = [];
    for (let i = 0; i < count; i++) {
      g.liveUpdates.push(0);
      new g.EventSource('/events/overview').addEventListener('update', () => {
        g.liveUpdates[i] = (g.liveUpdates[i] ?? 0) + 1;
      });
    }
  }, n);
}

/** Updates each extra stream has received so far, over every page. */
async function streamUpdates(pages: readonly Page[]): Promise<number[]> {
  const counts = await Promise.all(
    pages.map((page) => page.evaluate(() => (globalThis as unknown as StreamCounter).liveUpdates)),
  );
  return counts.flat();
}

/** Waits until the page has swapped in `updates` fresh fragments over `transport`. */
async function waitForUpdates(page: Page, transport: 'sse' | 'poll', updates = 1) {
  const status = page.locator('#live-status');
  await expect
    .poll(() => status.getAttribute('data-transport'), { timeout: 30_000 })
    .toBe(transport);
  const seen = new Set<string>();
  await expect
    .poll(
      async () => {
        const text = (await status.textContent()) ?? '';
        if (text.startsWith('live · ')) seen.add(text);
        return seen.size;
      },
      { timeout: 30_000, interval: 200 },
    )
    .toBeGreaterThanOrEqual(updates);
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  const started = await startSimulator({ fleet: 400, timeScale: 20, latencyMs: [2, 8], seed: 29 });
  sim = started.sim;
  closers.push(
    () => sim.close(),
    () => sim.app.close(),
  );
  const config = scanTestConfig(testRedisUrl(), prefix, started, {
    'limits.windows': '100/3s,1500/180s',
    'limits.throttleDefault': '3s',
    'dashboard.port': 0,
    'dashboard.token': TOKEN,
    'dashboard.liveInterval': `${String(INTERVAL_MS)}ms`,
    'api.enabled': false,
  });
  runtime = await buildRuntime(config, { role: 'live-worker' });
  closers.push(
    () => cleanupPrefix(testRedisUrl(), prefix),
    () => runtime.close(),
  );
  // A campaign under way, so the pages have something to follow.
  const worker = startRuntimeWorker(runtime, { concurrency: 4, pollActionStatuses: false });
  closers.push(() => worker.close());
  await startCampaign(
    runtime,
    sim.machines.map((m) => m.id),
    'live sweep',
  );
  server = await startDashboardServer(config, { role });
  closers.push(() => server.close());
  const addresses = await dashboardAddresses();
  expect(addresses.size).toBeGreaterThan(0);
  // MONITOR on a plain socket: ioredis's monitor() trips over a busy shared Redis ("Command
  // queue state error").
  const { hostname, port } = new URL(testRedisUrl());
  monitor = connect({ host: hostname, port: Number(port || 6379) });
  await new Promise<void>((resolve, reject) => {
    monitor.once('connect', resolve);
    monitor.once('error', reject);
  });
  closers.push(() => {
    monitor.destroy();
    return Promise.resolve();
  });
  let rest = '';
  monitor.setEncoding('utf8');
  monitor.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      // +1796667468.508271 [0 127.0.0.1:59294] "evalsha" "…"
      const head = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "((?:[^"\\]|\\.)*)"/.exec(line);
      if (head && addresses.has(head[1] ?? ''))
        commands.push({ at: Date.now(), name: head[2] ?? '' });
    }
  });
  monitor.write('MONITOR\r\n');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  closers.push(() => browser.close());
}, 90_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
}, 60_000);

describe('live dashboard over server-sent events', () => {
  it('costs Redis the same with fifty pages open as with one, and nothing once they close', async () => {
    const url = server.address;
    const idle = await countDuring(WINDOW_INTERVALS);

    // Chromium holds at most 6 connections per host in a context: 10 contexts, each one page
    // (its own stream) and 4 more streams opened by the page, 50 in all.
    const contexts = await Promise.all(Array.from({ length: PAGES }, () => signedIn()));
    const pages: Page[] = [await openPage(contexts[0]!, url)];
    await waitForUpdates(pages[0]!, 'sse');
    const one = await countDuring(WINDOW_INTERVALS);

    for (const context of contexts.slice(1)) pages.push(await openPage(context, url));
    for (const page of pages) await openStreams(page, VIEWERS / PAGES - 1);
    for (const page of pages) await waitForUpdates(page, 'sse');
    await expect
      .poll(async () => Math.min(...(await streamUpdates(pages))), poll)
      .toBeGreaterThan(0);
    const before = await streamUpdates(pages);
    const fifty = await countDuring(WINDOW_INTERVALS);
    // Every stream was fed during the window: each got several updates, from the one read.
    const during = (await streamUpdates(pages)).map((n, i) => n - (before[i] ?? 0));
    expect(during).toHaveLength(VIEWERS - PAGES);
    expect(Math.min(...during)).toBeGreaterThanOrEqual(WINDOW_INTERVALS - 2);
    for (const page of pages) await waitForUpdates(page, 'sse', 2);

    for (const context of contexts) await context.close();
    // Their streams end with their sockets: the shared read stops.
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    const after = await countDuring(WINDOW_INTERVALS);

    const perRead = (one - idle) / WINDOW_INTERVALS;
    console.log(
      `dashboard Redis commands per ${String(WINDOW_INTERVALS)} s: idle ${String(idle)}, ` +
        `1 page ${String(one)}, ${String(VIEWERS)} pages ${String(fifty)}, closed ${String(after)} ` +
        `(≈ ${perRead.toFixed(1)} per read)`,
    );
    expect(one - idle).toBeGreaterThan(0); // the overview is read while someone looks
    // Fifty pages: at most one read more than one page (a window's edges may catch one extra).
    expect(fifty).toBeLessThanOrEqual(one + perRead + 2);
    // All gone: back to the idle probes (one read may have been under way as the last left).
    expect(after).toBeLessThanOrEqual(idle + perRead + 2);
  }, 420_000);

  it('falls back to fetching fragments where EventSource is missing, and refuses strangers', async () => {
    const context = await signedIn();
    const page = await openPage(context, server.address, { withoutEventSource: true });
    await waitForUpdates(page, 'poll', 2);
    await context.close();

    const stranger = await browser.newContext();
    const refused = await stranger.request.get(`${server.address}/events/overview`);
    expect(refused.status()).toBe(401);
    await stranger.close();
  }, 60_000);
});
