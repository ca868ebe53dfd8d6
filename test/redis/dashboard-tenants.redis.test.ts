import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { readTenantReports } from '../../src/lanes/tenant-reports.js';
import type { LiveWorker } from '../../src/ops/worker-presence.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const headers = { authorization: 'Bearer test-token-0123456789' };
const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function fixture(): DashboardFixture {
  const fx = dashboardFixture();
  cleanups.push(() => fx.close());
  return fx;
}

async function serve(fx: DashboardFixture, overrides: Parameters<DashboardFixture['deps']>[0]) {
  const app: FastifyInstance = await buildDashboard(fx.deps(overrides));
  cleanups.push(() => app.close());
  return app;
}

/** Two configured tenants (two API identities, so two budgets), as `fleetscan tenants` reads them. */
async function twoTenants(): Promise<Runtime> {
  const dir = mkdtempSync(join(tmpdir(), 'dash-tenants-'));
  const prefix = uniquePrefix('dash-tenants');
  const file = join(dir, 'tenants.yaml');
  writeFileSync(
    file,
    [
      'tenants:',
      '  - { name: contoso, cloud: commercial, tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47,',
      '      clientId: 0a1b2c3d-0000-4000-8000-000000009e8f, accessTokenEnv: TOKEN_A }',
      '  - { name: fabrikam, cloud: gcc-high, tenantId: 11111111-2222-4333-8444-555555555555,',
      '      clientId: 66666666-7777-4888-9999-000000000000, accessTokenEnv: TOKEN_B }',
    ].join('\n'),
  );
  const config = loadConfig({
    file,
    env: { TOKEN_A: 'a', TOKEN_B: 'b' },
    overrides: {
      'redis.url': testRedisUrl(),
      'redis.prefix': prefix,
      'redis.budgetPrefix': prefix,
      'limits.windows': '100/1m,1500/1h',
      'limits.reserve': '10/1m,100/1h',
      'log.level': 'silent',
    },
  });
  const runtime = await buildRuntime(config, { role: 'test' });
  cleanups.push(async () => {
    await runtime.close();
    await cleanupPrefix(testRedisUrl(), prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  return runtime;
}

const worker: LiveWorker = {
  id: 'scan-7:4242',
  host: 'scan-7',
  pid: 4242,
  concurrency: 16,
  tenants: ['contoso', 'fabrikam'],
  budgets: ['commercial:72f988bf-86f1-41af-91ab-2d7cd011db47:0a1b2c3d-0000-4000-8000-000000009e8f'],
  startedAt: 1_000,
  lastJobAt: null,
  lastBeatAt: Date.UTC(2026, 11, 7, 14, 20, 5),
};

describe('the tenants on the dashboard', () => {
  it('shows every tenant as fleetscan tenants reads it, and budgets by tenant name', async () => {
    const runtime = await twoTenants();
    const fx = fixture();
    const reports = () => readTenantReports(runtime, Date.now());
    const app = await serve(fx, {
      tenants: reports,
      budgets: runtime.tenants.list().map((t) => ({
        id: t.budgetId,
        tenants: [t.name],
        usage: () => t.limiter.usage(),
      })),
    });
    const body = (await app.inject({ url: '/', headers })).body;
    const page = text(body);
    expect(body).toContain('aria-label="Tenants"');
    for (const report of await reports()) {
      expect(body).toContain(`data-tenant="${report.name}" data-hold="open"`);
    }
    expect(page).toMatch(
      /contoso Commercial 0 \/ 100 per 1 min reserve 10 0 \/ 1,500 per 1 h reserve 100 configured caps open 0\/0\/0 0 0/,
    );
    expect(page).toMatch(/fabrikam GCC High 0 \/ 100 per 1 min reserve 10/);
    // The budget cards name their tenant; the GUIDs stay in the title only.
    expect(page).toContain('tenant contoso · Commercial cloud');
    expect(page).toContain('tenant fabrikam · GCC High cloud');
    expect(page).not.toMatch(/72f988bf/);
    expect(body).toContain('title="commercial:72f988bf-86f1-41af-91ab-2d7cd011db47');
  });

  it('lists workers with pid, concurrency and tenants in cells of their own', async () => {
    const fx = fixture();
    const app = await serve(fx, { workers: () => Promise.resolve([worker]) });
    const body = (await app.inject({ url: '/', headers })).body;
    const row = /<tr data-worker="scan-7:4242">([\s\S]*?)<\/tr>/.exec(body)?.[1] ?? '';
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
      text(m[1] ?? '').trim(),
    );
    expect(cells).toEqual([
      'scan-7',
      '4242',
      '16',
      'contoso, fabrikam',
      '2026-12-07 14:20:05 UTC',
      'none yet',
    ]);
    expect(body).not.toContain('data-no-workers-banner');
  });

  it('puts up a page banner on the overview and the campaign page when no worker is alive', async () => {
    const fx = fixture();
    const seeded = await seedCampaign(fx.store, {
      name: 'w',
      total: 5,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const app = await serve(fx, { workers: () => Promise.resolve([]) });
    for (const url of ['/', '/fragments/overview', `/campaigns/${seeded.id}`]) {
      const body = (await app.inject({ url, headers })).body;
      expect(body, url).toMatch(/role="alert" data-no-workers-banner/);
      expect(text(body), url).toContain('No live worker.');
    }
    // Without heartbeats read at all, nothing is claimed either way.
    const unread = await serve(fx, {});
    expect((await unread.inject({ url: '/', headers })).body).not.toContain('data-no-workers');
  });

  it('reads a cancelled campaign as cancelled, with what the kill switch did on card and page', async () => {
    const fx = fixture();
    const seeded = await seedCampaign(fx.store, {
      name: 'drill',
      total: 300,
      requested: 87,
      failed: 2,
      deferred: 0,
    });
    await fx.store.setCampaignState(seeded.id, 'cancelled');
    const untouched = await seedCampaign(fx.store, {
      name: 'plain cancel',
      total: 10,
      requested: 3,
      failed: 0,
      deferred: 0,
    });
    await fx.store.setCampaignState(untouched.id, 'cancelled');
    const app = await serve(fx, {
      killSwitch: (id) =>
        Promise.resolve(id === seeded.id ? { cancelled: 85, alreadyFinal: 2, refused: 0 } : null),
    });
    const overview = text((await app.inject({ url: '/', headers })).body);
    for (const page of [
      overview,
      text((await app.inject({ url: `/campaigns/${seeded.id}`, headers })).body),
    ]) {
      expect(page).toContain('Cancelled 87 of 300 devices got a scan request, 211 never did');
      expect(page).toContain(
        'Kill switch: 85 actions cancelled in Defender, 2 already finished, 0 refused',
      );
      expect(page).not.toMatch(/of 300 devices settled/);
      expect(page).not.toMatch(/100%/);
    }
    expect(overview).toContain('Cancelled 3 of 10 devices got a scan request, 7 never did');
    expect(overview).toContain('Kill switch not used');
  });

  it('serves a favicon without credentials, linked from every page', async () => {
    const fx = fixture();
    const app = await serve(fx, {});
    const icon = await app.inject({ url: '/favicon.ico' });
    expect(icon.statusCode).toBe(301);
    expect(icon.headers.location).toBe('/static/favicon.svg');
    const svg = await app.inject({ url: '/static/favicon.svg' });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.body).toMatch(/^<svg /);
    const page = await app.inject({ url: '/', headers });
    expect(page.body).toContain('<link rel="icon" type="image/svg+xml" href="/static/favicon.svg"');
  });
});
