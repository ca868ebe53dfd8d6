import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { createScheduleReader } from '../../src/schedules/schedule-reader.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { spec } from './schedule-fixture.js';

let prefix: string;
let redis: Redis;

beforeEach(() => {
  prefix = uniquePrefix('scheddash');
  redis = new Redis(testRedisUrl());
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const NOW = new Date('2026-03-28T12:00:00Z').getTime();

async function dashboard() {
  const store = createCampaignStore(redis, prefix);
  const schedules = createScheduleStore(redis, prefix);
  const app = await buildDashboard({
    store,
    redis,
    stats: {
      readApiCalls: () => Promise.resolve([]),
      readApiCallSeconds: () => Promise.resolve([]),
      readTokenRefreshes: () => Promise.resolve(0),
    },
    budgets: [],
    credentials: { token: 'secret' },
    allowActions: false,
    requireNoEviction: false,
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
    schedules: createScheduleReader(schedules),
  });
  return { app, store, schedules };
}

describe('dashboard schedules', () => {
  it('shows the next fire in local and UTC time, the last run with its counts, and a pause note', async () => {
    const { app, store, schedules } = await dashboard();
    await schedules.put(
      spec({ name: 'nightly', cron: '30 2 * * *', tz: 'Europe/Berlin', all: true }),
      NOW,
    );
    await schedules.put(spec({ name: 'frozen', all: true }), NOW);
    await schedules.setPaused('frozen', true, 'change freeze', NOW);
    await store.createCampaign({
      id: 'c-aaaaaaaaaaaa',
      name: 'nightly 2026-03-28T01:30Z',
      scanType: 'Quick',
      comment: 'x [fleetscan:c-aaaaaaaaaaaa]',
      createdAt: NOW,
      createdBy: 'schedule:nightly',
      source: 'all',
      tenant: 'default',
      priority: 'background',
      window: null,
      schedule: 'nightly',
    });
    await schedules.appendHistory('nightly', {
      planned: NOW - 3_600_000,
      actual: NOW - 3_599_000,
      outcome: 'started',
      reason: null,
      campaignId: 'c-aaaaaaaaaaaa',
      counts: { queued: 42, invalid: 0, skipped: { inactive: 3 } },
      manual: false,
    });
    const page = await app.inject({ url: '/', headers: { authorization: 'Bearer secret' } });
    expect(page.statusCode).toBe(200);
    const body = page.body;
    // 02:30 does not exist in Berlin on 29 March: it fires at 03:30 CEST = 01:30Z.
    expect(body).toContain('2026-03-29 03:30 Europe/Berlin');
    expect(body).toContain('2026-03-29T01:30Z');
    expect(body).toMatch(/pill-started[^]*42 queued, 3 skipped/);
    expect(body).toContain('change freeze');
    expect(body).toMatch(/schedule <b class="campaign-schedule">nightly<\/b>/);

    const metrics = await app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer secret' },
    });
    expect(metrics.body).toContain('fleetscan_schedule_fires_total{outcome="started"} 1');
    expect(metrics.body).toContain('fleetscan_schedule_fires_total{outcome="missed"} 0');
    expect(metrics.body).toContain(
      `fleetscan_schedule_next_fire_timestamp_seconds{schedule="nightly"} ${String(new Date('2026-03-29T01:30:00Z').getTime() / 1000)}`,
    );
    expect(metrics.body).not.toContain('schedule="frozen"');
    await app.close();
  });
});
