import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { exportDevices } from '../../src/campaigns/export-devices.js';
import { archiveCampaign } from '../../src/retention/archive-campaign.js';
import { createArchiveSource } from '../../src/retention/campaign-reader.js';
import type { MemorySettings } from '../../src/retention/memory-headroom.js';
import { dashboardFixture, type DashboardFixture } from './dashboard-fixture.js';
import { collect, pruneDeps, seedFinishedCampaign } from './retention-fixture.js';
import type { PruneDeps } from '../../src/retention/prune-campaigns.js';

const AUTH = { authorization: 'Bearer test-token-0123456789' };

let fx: DashboardFixture;
let deps: PruneDeps;

beforeEach(() => {
  fx = dashboardFixture();
  deps = pruneDeps(fx.redis, fx.prefix, fx.store, () => Date.now());
});

afterEach(async () => {
  await fx.close();
  rmSync(deps.archiveDir, { recursive: true, force: true });
});

async function dashboard(memory: MemorySettings) {
  return buildDashboard(
    fx.deps({ retention: { archives: createArchiveSource(deps.index, deps.archiveDir), memory } }),
  );
}

describe('dashboard retention', () => {
  it('lists archived campaigns apart and serves their export from the archive, byte for byte', async () => {
    const live = await seedFinishedCampaign(fx.store, 5);
    const gone = await seedFinishedCampaign(fx.store, 120);
    const before = await collect(
      exportDevices(fx.store.iterateDevices(gone), 'csv', {
        tenant: 'default',
        priority: 'normal',
      }),
    );
    await archiveCampaign(deps, gone);
    const app = await dashboard({ bytesPerDevice: 1_000, warnAt: 0.999, refuseAt: 1 });
    const page = await app.inject({ url: '/fragments/overview', headers: AUTH });
    const split = page.body.indexOf('aria-label="Archived campaigns"');
    expect(split).toBeGreaterThan(0);
    const liveList = page.body.slice(0, split);
    const archivedList = page.body.slice(split);
    expect(liveList).toContain(live);
    expect(liveList).not.toContain(gone);
    expect(archivedList).toContain(gone);
    expect(page.body).not.toContain('memory-warning');
    const csv = await app.inject({ url: `/campaigns/${gone}/export.csv`, headers: AUTH });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toBe(before);
    await app.close();
  });

  it('warns above warnAt with the room left in devices, and exposes memory in /metrics', async () => {
    const app = await dashboard({ bytesPerDevice: 1, warnAt: 1e-9, refuseAt: 1 });
    const page = await app.inject({ url: '/', headers: AUTH });
    expect(page.body).toContain('memory-warning');
    expect(page.body).toMatch(/room for about [\d,]+ more devices/);
    const metrics = await app.inject({ url: '/metrics', headers: AUTH });
    expect(metrics.body).toMatch(/^fleetscan_redis_memory_used_bytes \d+/m);
    expect(metrics.body).toMatch(/^fleetscan_redis_memory_max_bytes \d+/m);
    expect(metrics.body).toMatch(/^fleetscan_redis_memory_room_devices \d+/m);
    expect(metrics.body).toMatch(/^fleetscan_campaigns_archived 0/m);
    // Above warnAt (1e-9), below refuseAt (the whole of memory): level 1, which FleetscanRedisMemoryHigh reads.
    expect(metrics.body).toMatch(/^fleetscan_redis_memory_level 1$/m);
    await app.close();
  });

  it('exports memory level 0 below warnAt and 2 from refuseAt on', async () => {
    const calm = await dashboard({ bytesPerDevice: 1, warnAt: 0.999, refuseAt: 1 });
    expect((await calm.inject({ url: '/metrics', headers: AUTH })).body).toMatch(
      /^fleetscan_redis_memory_level 0$/m,
    );
    await calm.close();
    const full = await dashboard({ bytesPerDevice: 1, warnAt: 1e-10, refuseAt: 1e-9 });
    expect((await full.inject({ url: '/metrics', headers: AUTH })).body).toMatch(
      /^fleetscan_redis_memory_level 2$/m,
    );
    await full.close();
  });
});
