import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryFailed } from '../../src/control/retry-failed.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';
import { testLanes } from './lane-fixture.js';

const bearer = { authorization: 'Bearer test-token-0123456789' };

let fx: DashboardFixture;
let lanes: Lanes;
let app: FastifyInstance | undefined;
beforeEach(() => {
  fx = dashboardFixture();
  ({ lanes } = testLanes(fx.redis, fx.prefix));
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await fx.close();
});

async function dashboard(allowActions: boolean) {
  return buildDashboard(
    fx.deps({
      allowActions,
      retryFailed: (campaignId: string) =>
        retryFailed({ redis: fx.redis, prefix: fx.prefix, store: fx.store, lanes }, { campaignId }),
    }),
  );
}

describe('dashboard retry of failed devices', () => {
  it('re-queues the failed devices from a confirmed button with the action token', async () => {
    app = await dashboard(true);
    const seeded = await seedCampaign(fx.store, {
      name: 'retry',
      total: 6,
      requested: 2,
      failed: 0,
      deferred: 0,
    });
    // Failures a retry can change (a permanent code such as ResourceNotFound stays failed).
    for (const machineId of seeded.ids.slice(2)) {
      await fx.store.markSent(seeded.id, machineId, Date.now());
      await fx.store.markFailed(seeded.id, machineId, 'ServiceUnavailable: try again later');
    }
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('finished');
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(page.body).toMatch(
      /action="\/campaigns\/[^"]+\/retry-failed"\s+data-confirm="Retry 4 failed devices of retry\? Devices that may/,
    );
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const post = (token: string, site = 'same-origin') =>
      app!.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/retry-failed`,
        headers: {
          ...bearer,
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': site,
        },
        payload: `csrf=${encodeURIComponent(token)}`,
      });
    expect((await post('wrong')).statusCode).toBe(403);
    expect((await post(csrf, 'cross-site')).statusCode).toBe(403);
    expect((await fx.store.getCampaign(seeded.id))?.counts.failed).toBe(4);

    const done = await post(csrf);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/campaigns/${seeded.id}`);
    const campaign = await fx.store.getCampaign(seeded.id);
    expect(campaign).toMatchObject({ state: 'running' });
    expect(campaign?.counts).toMatchObject({ failed: 0, queued: 4, requested: 2 });
    const lane = lanes.forTenant('default');
    expect(await fx.redis.zcard(lane.keys.readyPrefix + seeded.id)).toBe(4);
    // Nothing failed any more: no button.
    const after = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(after.body).not.toContain('/retry-failed');
  });

  it('promises only the devices a retry queues: permanent failures are named as staying failed', async () => {
    app = await dashboard(true);
    const seeded = await seedCampaign(fx.store, {
      name: 'mixed',
      total: 5,
      requested: 0,
      failed: 0,
      deferred: 0,
    });
    const reasons = [
      'ServiceUnavailable: try again later',
      'ServiceUnavailable: try again later',
      'OsPlatformNotSupported: the device cannot run this scan',
      'ResourceNotFound: no such machine',
      'ResourceNotFound: no such machine',
    ];
    for (const [i, machineId] of seeded.ids.entries()) {
      await fx.store.markSent(seeded.id, machineId, Date.now());
      await fx.store.markFailed(seeded.id, machineId, reasons[i] ?? '');
    }
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(page.body).toContain(
      'data-confirm="Retry 2 failed devices of mixed? 3 with a permanent failure (unsupported platform or client, unknown device) stay failed.',
    );
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const done = await app.inject({
      method: 'POST',
      url: `/campaigns/${seeded.id}/retry-failed`,
      headers: {
        ...bearer,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(done.statusCode).toBe(303);
    // What the confirmation promised: 2 queued again, the 3 permanent failures left as they were.
    expect((await fx.store.getCampaign(seeded.id))?.counts).toMatchObject({ queued: 2, failed: 3 });
    // Only permanent failures left: a retry would queue nothing, so there is no button.
    const after = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(after.body).not.toContain('/retry-failed');
  });

  it('offers no button and no route without --allow-actions', async () => {
    app = await dashboard(false);
    const seeded = await seedCampaign(fx.store, {
      name: 'ro',
      total: 2,
      requested: 0,
      failed: 2,
      deferred: 0,
    });
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(page.body).not.toContain('retry-failed');
    const res = await app.inject({
      method: 'POST',
      url: `/campaigns/${seeded.id}/retry-failed`,
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'csrf=x',
    });
    expect(res.statusCode).toBe(403);
    expect((await fx.store.getCampaign(seeded.id))?.counts.failed).toBe(2);
  });
});
