import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBudget, readCampaignStatus } from '../../src/cli/commands/shared/campaign-status.js';
import { renderCampaign, renderProgress } from '../../src/cli/commands/shared/render-status.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import type { ScanLimiter } from '../../src/limiter/scan-limiter.js';
import type { LiveWorker } from '../../src/ops/worker-presence.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const headers = { authorization: 'Bearer test-token-0123456789' };
let fx: DashboardFixture;
let app: FastifyInstance | undefined;

beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await fx.close();
});

const worker = (tenants: string[]): LiveWorker => ({
  id: 'host-a:42',
  host: 'host-a',
  pid: 42,
  concurrency: 8,
  tenants,
  budgets: ['commercial:tenant-1:app-1'],
  startedAt: 1_000,
  lastJobAt: Date.UTC(2026, 11, 1, 10, 0, 5),
  lastBeatAt: Date.now(),
});

const budgetOf = (fx: DashboardFixture) =>
  readBudget(
    { usage: () => Promise.resolve(fx.budget.usage as Awaited<ReturnType<ScanLimiter['usage']>>) },
    'commercial:tenant-1:app-1',
  );

describe('worker presence in status', () => {
  it('says "no workers" instead of an ETA while devices wait and nothing serves the tenant', async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'w',
      total: 10,
      requested: 2,
      failed: 0,
      deferred: 0,
    });
    const campaign = (await fx.store.getCampaign(seeded.id))!;
    const read = async (workers: LiveWorker[]) =>
      readCampaignStatus({
        store: fx.store,
        redis: fx.redis,
        budget: await budgetOf(fx),
        campaign,
        workers,
      });

    const alone = await read([worker(['contoso'])]);
    expect(alone).toMatchObject({ noWorkers: true, eta: null, workers: [] });
    expect(renderCampaign(alone)).toContain('no workers: no live worker serves tenant default');
    expect(renderCampaign(alone)).toContain('workers: none live');
    expect(renderProgress(alone)).toMatch(/, no workers$/);

    const served = await read([worker(['default'])]);
    expect(served.noWorkers).toBe(false);
    expect(served.eta).not.toBeNull();
    expect(served.workers.map((w) => w.pid)).toEqual([42]);
    expect(renderCampaign(served)).toContain(
      'host-a pid 42, 8 at once, budget commercial:tenant-1:app-1, last job 10:00:05Z',
    );
  });
});

describe('worker presence in the dashboard', () => {
  it('lists live workers, shows "no workers" as the ETA, and exports fleetscan_workers', async () => {
    const seeded = await seedCampaign(fx.store, {
      name: 'w',
      total: 10,
      requested: 2,
      failed: 0,
      deferred: 0,
    });
    let workers: LiveWorker[] = [];
    app = await buildDashboard(fx.deps({ workers: () => Promise.resolve(workers) }));

    const empty = (await app.inject({ url: '/fragments/overview', headers })).body;
    expect(empty).toContain('data-no-workers');
    expect(empty).toMatch(/data-stat="eta"[\s\S]*?<dd>no workers/);
    expect((await app.inject({ url: '/metrics', headers })).body).toMatch(/^fleetscan_workers 0$/m);

    workers = [worker(['default'])];
    const live = (await app.inject({ url: `/fragments/campaigns/${seeded.id}`, headers })).body;
    expect(live).not.toContain('no workers');
    const overview = (await app.inject({ url: '/', headers })).body;
    expect(overview).toContain('data-worker="host-a:42"');
    expect(overview).toContain('commercial:tenant-1:app-1');
    expect((await app.inject({ url: '/metrics', headers })).body).toMatch(/^fleetscan_workers 1$/m);
  });
});
