import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardFixture, type DashboardFixture } from '../helpers/dashboard-fixture.js';
import { testRedisUrl } from '../helpers/redis.js';
import { startCampaign } from '../redis/scan-fixture.js';

/** Browser sessions on the overview: each its own context (cookies), sign-in and stream. */
const SESSIONS = 50;
/** Sign-ins under way at once: the 2-core host also runs Chromium, the simulators and Redis. */
const SIGN_INS_AT_ONCE = 5;
/** Test users of the simulated Entra tenant with a FleetScan role (test/helpers/entra-signin.ts). */
const USERS = ['vera@contoso.test', 'otto@contoso.test', 'ada@contoso.test'] as const;
/** `dashboard.liveInterval` here; each window below spans this many intervals. */
const INTERVAL_MS = 1_000;
const WINDOW_INTERVALS = 6;
const WINDOW_S = (WINDOW_INTERVALS * INTERVAL_MS) / 1_000;

/** The dashboard's connections are named after this role, so its commands can be told apart. */
const role = `live-dash-${randomBytes(4).toString('hex')}`;
let fx: DashboardFixture;
let url = '';
let monitor: Socket;
/**
 * Commands the dashboard process sent, as MONITOR saw them (Redis's own count); `session` marks
 * those on a session key (a stream's credential check).
 */
const commands: { at: number; name: string; session: boolean }[] = [];

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

/** Commands of the dashboard during `intervals` live intervals from now, and of them on sessions. */
async function countDuring(intervals: number): Promise<{ all: number; session: number }> {
  const from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, intervals * INTERVAL_MS));
  const to = Date.now();
  const seen = commands.filter((c) => c.at >= from && c.at < to);
  return { all: seen.length, session: seen.filter((c) => c.session).length };
}

/** What the counting wrapper adds to the page (no DOM types in the tests' compiler settings). */
interface StreamCounter {
  EventSource: new (
    url: string,
    init?: unknown,
  ) => { addEventListener(type: string, listener: () => void): void };
  liveUpdates: number;
}

/**
 * A new browser context (its own cookies) signed in as `username` through the dashboard's real
 * sign-in routes: the browser starts at `/signin` (its binding cookie) and lands on the simulated
 * Entra ID's account picker; the pick is posted over HTTP (a loaded 2-core host renders fifty
 * Chromium form posts too slowly), and the browser follows the callback it answers, getting its
 * session cookie and the overview. The page's EventSource counts its `update` events, or is
 * missing altogether when `withoutEventSource`.
 */
async function signedIn(
  username: string,
  options: { withoutEventSource?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const entra = fx.entra;
  if (!entra) throw new Error('the fixture signs in with Entra');
  // The simulator's certificate is self-signed: only its pages are concerned.
  const context = await fx.browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  if (options.withoutEventSource) {
    await context.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'EventSource');
    });
  } else {
    await context.addInitScript(() => {
      const g = globalThis as unknown as StreamCounter;
      const Native = g.EventSource;
      g.liveUpdates = 0;
      g.EventSource = class extends Native {
        constructor(streamUrl: string, init?: unknown) {
          super(streamUrl, init);
          this.addEventListener('update', () => {
            g.liveUpdates += 1;
          });
        }
      };
    });
  }
  const page = await context.newPage();
  await page.goto(`${url}/signin?returnTo=%2F`, {
    waitUntil: 'domcontentloaded',
    timeout: 120_000,
  });
  const flow = await page.locator('input[name="flow"]').getAttribute('value', { timeout: 60_000 });
  const picked = await entra.http.post(page.url(), { form: { flow: flow ?? '', username } });
  const response = await page.goto(String(picked.headers.location), {
    waitUntil: 'domcontentloaded',
    timeout: 120_000,
  });
  expect(page.url()).toBe(`${url}/`);
  expect(response?.status()).toBe(200);
  return { context, page };
}

/** Opens `n` sessions, `SIGN_INS_AT_ONCE` at a time, each waiting for its stream's first update. */
async function signInMany(n: number, from: number) {
  const sessions: { context: BrowserContext; page: Page }[] = [];
  for (let next = 0; next < n; next += SIGN_INS_AT_ONCE) {
    const batch = Array.from(
      { length: Math.min(SIGN_INS_AT_ONCE, n - next) },
      (_, i) => USERS[(from + next + i) % USERS.length] ?? USERS[0],
    );
    const signed = await Promise.all(batch.map((user) => signedIn(user)));
    sessions.push(...signed);
    for (const session of signed) await waitForUpdates(session.page, 'sse');
  }
  return sessions;
}

/** Updates each page's stream has received so far. */
function streamUpdates(pages: readonly Page[]): Promise<number[]> {
  return Promise.all(
    pages.map((page) => page.evaluate(() => (globalThis as unknown as StreamCounter).liveUpdates)),
  );
}

/** Waits until the page has swapped in `updates` fresh fragments over `transport`. */
async function waitForUpdates(page: Page, transport: 'sse' | 'poll', updates = 1) {
  const status = page.locator('#live-status');
  await expect
    .poll(() => status.getAttribute('data-transport'), { timeout: 60_000 })
    .toBe(transport);
  const seen = new Set<string>();
  await expect
    .poll(
      async () => {
        const text = (await status.textContent()) ?? '';
        if (text.startsWith('live · ')) seen.add(text);
        return seen.size;
      },
      { timeout: 60_000, interval: 200 },
    )
    .toBeGreaterThanOrEqual(updates);
}

beforeAll(async () => {
  fx = await startDashboardFixture({
    name: 'live',
    simulator: { fleet: 400, timeScale: 20, latencyMs: [2, 8], seed: 29 },
    config: {
      'limits.windows': '100/3s,1500/180s',
      'limits.throttleDefault': '3s',
      'dashboard.liveInterval': `${String(INTERVAL_MS)}ms`,
      'api.enabled': false,
    },
    // People sign in with Entra ID (the simulator's), each browser session its own.
    auth: 'entra',
    // A campaign under way, so the pages have something to follow.
    worker: { concurrency: 4 },
    // The dashboard as `fleetscan dashboard` runs it, its Redis connections named after `role`.
    server: { role },
    // Fifty contexts in one headless shell (fifty pages of the desktop binary took 2+ cores:
    // sign-ins slowed to 30 s each, past 10 min on a loaded host); four renderers serve them all.
    chromium: { args: ['--renderer-process-limit=4'], headlessShell: true },
  });
  url = fx.url;
  await startCampaign(
    fx.runtime,
    fx.sim.machines.map((m) => m.id),
    'live sweep',
  );
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
  fx.onClose(() => {
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
      if (head && addresses.has(head[1] ?? '')) {
        commands.push({
          at: Date.now(),
          name: head[2] ?? '',
          session: line.includes(':dashboard:session:'),
        });
      }
    }
  });
  monitor.write('MONITOR\r\n');
}, 120_000);

afterAll(async () => {
  await fx.close();
}, 60_000);

describe('live dashboard over server-sent events', () => {
  it('costs Redis the same with fifty signed-in sessions open as with one, and nothing once they close', async () => {
    const idle = await countDuring(WINDOW_INTERVALS);

    const sessions = await signInMany(1, 0);
    const one = await countDuring(WINDOW_INTERVALS);

    try {
      sessions.push(...(await signInMany(SESSIONS - 1, 1)));
      const pages = sessions.map((s) => s.page);
      const ids = await Promise.all(
        sessions.map(
          async (s) =>
            (await s.context.cookies()).find((c) => c.name === '__Host-fleetscan_session')?.value,
        ),
      );
      expect(new Set(ids).size).toBe(SESSIONS);
      const before = await streamUpdates(pages);
      const fifty = await countDuring(WINDOW_INTERVALS);
      // Every session's stream was fed during the window: each got several updates, from the
      // one shared read per interval.
      const during = (await streamUpdates(pages)).map((n, i) => n - (before[i] ?? 0));
      expect(during).toHaveLength(SESSIONS);
      // A stream that reached its one-minute end in the window was away for its 3 s retry: it
      // still got an update, and over all of them the window's reads reached nearly everyone.
      expect(Math.min(...during)).toBeGreaterThanOrEqual(1);
      expect(during.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
        SESSIONS * (WINDOW_INTERVALS - 2) - 2 * SESSIONS * (WINDOW_INTERVALS / 60) * 3,
      );

      for (const { context } of sessions.splice(0)) await context.close();
      const perRead = (one.all - one.session - (idle.all - idle.session)) / WINDOW_INTERVALS;
      // Their streams end with their sockets and the shared read stops: the cost falls back to
      // the idle probes (one read may have been under way as the last left, hence `perRead`). A
      // loaded host may take a while to see fifty sockets close, so this waits for it.
      let after = idle;
      await expect
        .poll(
          async () => {
            after = await countDuring(WINDOW_INTERVALS);
            return after.all;
          },
          { timeout: 120_000, interval: 0 },
        )
        .toBeLessThanOrEqual(idle.all + perRead + 2);

      const rate = (n: { all: number; session: number }) =>
        `${(n.all / WINDOW_S).toFixed(1)} (${(n.session / WINDOW_S).toFixed(1)} on sessions)`;
      console.log(
        `dashboard Redis commands per second over ${String(WINDOW_S)} s: idle ${rate(idle)}, ` +
          `1 session ${rate(one)}, ${String(SESSIONS)} sessions ${rate(fifty)}, ` +
          `all closed ${rate(after)}; ≈ ${perRead.toFixed(1)} commands per shared read`,
      );
      expect(one.all - idle.all).toBeGreaterThan(0); // the overview is read while someone looks
      // The shared read: fifty sessions cost at most one read more than one session (a window's
      // edges may catch one more, and a probe or two of the outage watcher).
      expect(fifty.all - fifty.session).toBeLessThanOrEqual(one.all - one.session + perRead + 2);
      // Apart from it, each stream checks its session again when it reconnects, after
      // `maxAgeMs` (60 s, routes/live.ts): a GET and a SET. A window is far shorter than that, so
      // each session does it at most once in it (on average 50 × 2 × 6 s / 60 s = 10).
      expect(fifty.session).toBeLessThanOrEqual(2 * SESSIONS);
    } finally {
      for (const { context } of sessions) await context.close();
    }
  }, 600_000);

  it('falls back to fetching fragments where EventSource is missing, and refuses strangers', async () => {
    const { context, page } = await signedIn(USERS[0], { withoutEventSource: true });
    await waitForUpdates(page, 'poll', 2);
    await context.close();

    const stranger = await fx.browser.newContext();
    const refused = await stranger.request.get(`${url}/events/overview`);
    expect(refused.status()).toBe(401);
    await stranger.close();
  }, 120_000);
});
