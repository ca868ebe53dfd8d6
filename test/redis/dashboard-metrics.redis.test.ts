import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignControl } from '../../src/control/campaign-control.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { createLaneMetrics } from '../../src/lanes/lane-metrics.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';
import { testLanes } from './lane-fixture.js';
import type { CampaignLifecycle } from '../../src/tracking/lifecycle-store.js';
import { createWebhookStore, type Delivery } from '../../src/webhooks/webhook-store.js';

type ScanJobData = Record<string, never>;

const headers = { authorization: 'Bearer test-token-0123456789' };
let fx: DashboardFixture;
let queue: Queue<ScanJobData>;
let lanes: Lanes;
let app: FastifyInstance | undefined;

beforeEach(() => {
  fx = dashboardFixture();
  ({ lanes } = testLanes(fx.redis, fx.prefix, { reserve: [{ cap: 10, windowMs: 60_000 }] }));
  queue = new Queue<ScanJobData>('scans', {
    connection: fx.redis.duplicate(),
    prefix: fx.prefix,
  });
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await queue.close();
  await fx.close();
});

/** `name{labels} value` lines of one metric, labels parsed. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
      const labels = Object.fromEntries(
        [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

describe('/metrics', () => {
  it('exports devices by state, API calls, 429s, tokens, budget, reserve and lane depth from Redis', async () => {
    const laneMetrics = createLaneMetrics({
      lanes,
      tenantsOf: () => ['default'],
      campaigns: () => fx.store.listCampaigns(),
    });
    app = await buildDashboard(fx.deps({ lanes: laneMetrics }));
    const seeded = await seedCampaign(fx.store, {
      name: 'metrics',
      total: 20,
      requested: 5,
      failed: 4,
      deferred: 2,
    });
    for (let i = 0; i < 7; i++)
      fx.stats.recordApiCall({ family: 'scan', method: 'POST', status: 201, durationMs: 5 });
    for (let i = 0; i < 3; i++)
      fx.stats.recordApiCall({ family: 'scan', method: 'POST', status: 429, durationMs: 5 });
    fx.stats.recordApiCall({ family: 'machineActions', method: 'GET', status: 200, durationMs: 5 });
    fx.stats.recordTokenRefresh();
    fx.stats.recordTokenRefresh();
    fx.budget.usage = [
      {
        family: 'scan',
        windows: [
          { cap: 100, windowMs: 60_000, used: 10 },
          { cap: 1500, windowMs: 3_600_000, used: 10 },
        ],
        pausedUntil: Date.now() + 45_000,
      },
    ];
    await lanes.forTenant('default').push(
      { id: seeded.id, priority: 'urgent', paused: false },
      seeded.ids.slice(9).map((machineId) => ({ machineId })),
    );
    await fx.redis.ping(); // the fire-and-forget increments are in Redis before the scrape

    const res = await app.inject({ url: '/metrics', headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const body = res.body;

    const devices = series(body, 'fleetscan_campaign_devices');
    const byState = Object.fromEntries(
      devices.map((s) => [s.labels['state'] ?? '', s.value] as const),
    );
    expect(byState).toEqual({ queued: 9, deferred: 2, requested: 5, failed: 4, cancelled: 0 });
    expect(devices.every((s) => s.labels['campaign'] === seeded.id)).toBe(true);
    expect(
      series(body, 'fleetscan_campaign_failures')
        .map((s) => [s.labels['reason'], s.value])
        .sort(),
    ).toEqual([
      ['OsPlatformNotSupported', 2],
      ['ResourceNotFound', 2],
    ]);
    expect(
      series(body, 'fleetscan_api_calls_total').find((s) => s.labels['status'] === '201')?.value,
    ).toBe(7);
    expect(series(body, 'fleetscan_api_throttled_total')).toEqual([
      { labels: { family: 'scan' }, value: 3 },
    ]);
    expect(series(body, 'fleetscan_token_refreshes_total')[0]?.value).toBe(2);
    expect(series(body, 'fleetscan_budget_used').map((s) => s.labels['window_seconds'])).toEqual([
      '60',
      '3600',
    ]);
    expect(series(body, 'fleetscan_budget_cap').map((s) => s.value)).toEqual([100, 1500]);
    const paused = series(body, 'fleetscan_budget_paused_seconds')[0]?.value ?? 0;
    expect(paused).toBeGreaterThan(40);
    expect(paused).toBeLessThanOrEqual(45);
    expect(series(body, 'fleetscan_lane_campaigns_waiting')).toContainEqual({
      labels: { tenant: 'default', priority: 'urgent' },
      value: 1,
    });
    expect(series(body, 'fleetscan_budget_reserve')).toContainEqual({
      labels: { tenant: 'default', window_seconds: '60' },
      value: 10,
    });
    expect(series(body, 'fleetscan_campaign_info')).toContainEqual({
      labels: { campaign: seeded.id, tenant: 'default', priority: 'normal' },
      value: 1,
    });
    expect(series(body, 'fleetscan_redis_up')[0]?.value).toBe(1);

    // Bounded labels: no machine id (40 hex), no free text from API messages.
    expect(body).not.toMatch(/[0-9a-f]{40}/);
    expect(body).not.toContain('Machine not found');
  });

  it('exports fleetscan_tenant_blocked 1 with its reason while the breaker blocks a tenant, 0 after', async () => {
    const laneMetrics = createLaneMetrics({
      lanes,
      tenantsOf: () => ['default'],
      campaigns: () => fx.store.listCampaigns(),
    });
    app = await buildDashboard(fx.deps({ lanes: laneMetrics }));
    const scrape = async () => (await app!.inject({ url: '/metrics', headers })).body;
    expect(series(await scrape(), 'fleetscan_tenant_blocked')).toEqual([
      { labels: { tenant: 'default', reason: 'none' }, value: 0 },
    ]);
    const breaker = lanes.forTenant('default').breaker;
    await breaker.trip({ reason: 'credentials_rejected', message: 'Wrong secret. Fix it.' }, false);
    const body = await scrape();
    expect(series(body, 'fleetscan_tenant_blocked')).toEqual([
      { labels: { tenant: 'default', reason: 'credentials_rejected' }, value: 1 },
    ]);
    expect(series(body, 'fleetscan_tenant_blocked_since_seconds')[0]?.value).toBeGreaterThan(0);
    // The sentence stays out of the labels.
    expect(body).not.toContain('Wrong secret');
    await breaker.clear();
    expect(series(await scrape(), 'fleetscan_tenant_blocked')[0]?.value).toBe(0);
  });

  it('exports the effective cap, the configured cap and the last decrease of the adaptive budget', async () => {
    fx.budget.usage = [
      {
        family: 'scan',
        windows: [
          { cap: 60, configuredCap: 100, windowMs: 60_000, used: 59 },
          { cap: 1500, configuredCap: 1500, windowMs: 3_600_000, used: 400 },
        ],
        pausedUntil: null,
        lastDecrease: {
          reason: '429 on a granted slot: 1m window 100 → 60',
          at: 1_800_000_000_000,
        },
      },
    ];
    app = await buildDashboard(fx.deps());
    const body = (await app.inject({ url: '/metrics', headers })).body;
    expect(series(body, 'fleetscan_budget_cap').map((s) => s.value)).toEqual([60, 1500]);
    expect(series(body, 'fleetscan_budget_configured_cap').map((s) => s.value)).toEqual([
      100, 1500,
    ]);
    expect(series(body, 'fleetscan_budget_cap_lowered_timestamp_seconds')).toEqual([
      {
        labels: {
          budget: expect.any(String) as string,
          family: 'scan',
          reason: '429 on a granted slot: 1m window 100 → 60',
        },
        value: 1_800_000_000,
      },
    ]);
  });

  it('exports how far tracking and verify lag, webhook attempts by outcome (the alert rules read them)', async () => {
    const seed = async (name: string, requested: number) =>
      (await seedCampaign(fx.store, { name, total: 4, requested, failed: 0, deferred: 0 })).id;
    const open = await seed('open', 2);
    const settled = await seed('settled', 4);
    const verified = await seed('verified', 4);
    const now = Date.now();
    const life = (over: Partial<CampaignLifecycle>): CampaignLifecycle => ({
      settledAt: null,
      trackingEndedAt: null,
      openAtEnd: null,
      lastTrackedAt: null,
      verifiedAt: null,
      proof: null,
      findings: null,
      cancels: { cancelled: 0, 'already-final': 0, refused: 0 },
      ...over,
    });
    const lifecycles: Record<string, CampaignLifecycle> = {
      [open]: life({ lastTrackedAt: now - 600_000 }),
      [settled]: life({ lastTrackedAt: now - 9_000_000, settledAt: now - 3_600_000 }),
      [verified]: life({
        settledAt: now - 7_200_000,
        verifiedAt: now - 3_000_000,
        findings: {
          devices: 2,
          detections: 3,
          unremediatedDevices: 1,
          alertedDevices: 1,
          checked: 4,
        },
      }),
    };
    const webhooks = createWebhookStore(fx.redis, fx.prefix);
    const delivery = (sequence: number): Delivery => ({
      sequence,
      subscriptionId: 'sub-1',
      eventId: `e-${sequence}`,
      type: 'campaign.settled',
      createdAt: now,
      state: 'pending',
      body: '{}',
      attempts: [],
    });
    const attempt = (status: number | null) => ({ at: now, status, error: null, durationMs: 3 });
    await webhooks.recordAttempt(delivery(1), attempt(500), null);
    await webhooks.recordAttempt(delivery(1), attempt(200), 'delivered');
    await webhooks.recordAttempt(delivery(2), attempt(null), 'failed');
    app = await buildDashboard(
      fx.deps({
        lifecycle: (id) => Promise.resolve(lifecycles[id] ?? life({})),
        verifyEnabled: true,
        webhookAttempts: () => webhooks.attemptCounts(),
      }),
    );
    const body = (await app.inject({ url: '/metrics', headers })).body;
    const byCampaign = (name: string): Record<string, number> =>
      Object.fromEntries(series(body, name).map((s) => [s.labels['campaign'] ?? '', s.value]));
    // Only the open campaign is still tracked; 600 s since its last round (± the test's own time).
    const untracked = byCampaign('fleetscan_campaign_untracked_seconds');
    expect(Object.keys(untracked)).toEqual([open]);
    expect(untracked[open]).toBeGreaterThanOrEqual(600);
    expect(untracked[open]).toBeLessThan(660);
    const unverified = byCampaign('fleetscan_campaign_unverified_seconds');
    expect(Object.keys(unverified).sort()).toEqual([settled, verified].sort());
    expect(unverified[settled]).toBeGreaterThanOrEqual(3_600);
    expect(unverified[verified]).toBe(0);
    // What the verified campaign's scans found; nothing for the ones no verify has looked at.
    expect(byCampaign('fleetscan_campaign_devices_with_detections')).toEqual({ [verified]: 2 });
    expect(byCampaign('fleetscan_campaign_devices_unremediated')).toEqual({ [verified]: 1 });
    expect(byCampaign('fleetscan_campaign_detections')).toEqual({ [verified]: 3 });
    expect(
      Object.fromEntries(
        series(body, 'fleetscan_webhook_attempts_total').map((s) => [s.labels['outcome'], s.value]),
      ),
    ).toEqual({ retry: 1, delivered: 1, failed: 1 });

    // With verify off, a settled campaign waits for nothing.
    await app.close();
    app = await buildDashboard(
      fx.deps({ lifecycle: (id) => Promise.resolve(lifecycles[id] ?? life({})) }),
    );
    const quiet = (await app.inject({ url: '/metrics', headers })).body;
    expect(series(quiet, 'fleetscan_campaign_unverified_seconds')).toEqual([]);
  });

  it('says Redis is down instead of failing the scrape', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const { createCampaignStore } = await import('../../src/campaigns/redis-campaign-store.js');
    const { createCallStats } = await import('../../src/metrics/call-stats.js');
    app = await buildDashboard(
      fx.deps({
        redis: dead,
        store: createCampaignStore(dead, fx.prefix),
        stats: createCallStats(dead, fx.prefix),
      }),
    );
    const res = await app.inject({ url: '/metrics', headers });
    expect(res.statusCode).toBe(200);
    expect(series(res.body, 'fleetscan_redis_up')[0]?.value).toBe(0);
    dead.disconnect();
  });
});

describe('actions with the campaign control', () => {
  it("pausing from the dashboard takes the campaign out of its budget's round-robin, resuming puts it back", async () => {
    const control = createCampaignControl({ store: fx.store, lanes });
    app = await buildDashboard(fx.deps({ control, allowActions: true }));
    const seeded = await seedCampaign(fx.store, {
      name: 'ctl',
      total: 12,
      requested: 2,
      failed: 0,
      deferred: 0,
    });
    const lane = lanes.forTenant('default');
    await lane.push(
      { id: seeded.id, priority: 'normal', paused: false },
      seeded.ids.slice(2).map((machineId) => ({ machineId })),
    );
    const inRoundRobin = async () =>
      (await fx.redis.zscore(lane.keys.roundRobin[1], seeded.id)) !== null;
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    // Cancel asks for the campaign's name to be typed; pause and resume do not.
    const name = (await fx.store.getCampaign(seeded.id))?.name ?? '';
    const post = (action: string) =>
      app!.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/${action}`,
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
        },
        payload:
          `csrf=${csrf}` + (action === 'cancel' ? `&confirmName=${encodeURIComponent(name)}` : ''),
      });
    expect((await post('pause')).statusCode).toBe(303);
    expect(await inRoundRobin()).toBe(false);
    expect((await post('resume')).statusCode).toBe(303);
    expect(await inRoundRobin()).toBe(true);
    expect(await fx.redis.zcard(lane.keys.readyPrefix + seeded.id)).toBe(10);
    expect((await post('cancel')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.counts.cancelled).toBe(10);
  });
});

describe('/queues', () => {
  it('mounts bull-board read-only without --allow-actions', async () => {
    app = await buildDashboard(fx.deps({ queue }));
    expect((await app.inject({ url: '/queues' })).statusCode).toBe(401);
    const ui = await app.inject({ url: '/queues', headers });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('<div id="root">');
    const api = await app.inject({ url: '/queues/api/queues', headers });
    expect(api.statusCode).toBe(200);
    expect(api.json<{ queues: { name: string; readOnlyMode: boolean }[] }>().queues).toMatchObject([
      { name: 'scans', readOnlyMode: true },
    ]);
    const pause = await app.inject({
      method: 'PUT',
      url: '/queues/api/queues/scans/pause',
      headers,
    });
    expect(pause.statusCode).toBe(403);
    expect(await queue.isPaused()).toBe(false);
  });

  it('lets bull-board act with --allow-actions, from the same origin only', async () => {
    app = await buildDashboard(fx.deps({ queue, allowActions: true }));
    const url = '/queues/api/queues/scans/pause';
    const host = { host: 'dash.example:3000' };
    // bull-board's page hands its requests the action token as a cookie (issue 27).
    const page = await app.inject({ url: '/queues', headers: { ...headers, ...host } });
    const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0] ?? '';
    const cross = await app.inject({
      method: 'PUT',
      url,
      headers: { ...headers, ...host, cookie, origin: 'https://evil.example' },
    });
    expect(cross.statusCode).toBe(403);
    const tokenless = await app.inject({
      method: 'PUT',
      url,
      headers: { ...headers, ...host, origin: 'http://dash.example:3000' },
    });
    expect(tokenless.statusCode).toBe(403);
    expect(await queue.isPaused()).toBe(false);
    const same = await app.inject({
      method: 'PUT',
      url,
      headers: { ...headers, ...host, cookie, origin: 'http://dash.example:3000' },
    });
    expect(same.statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(true);
  });
});
