import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { archiveCampaign } from '../../src/retention/archive-campaign.js';
import { archiveFileName } from '../../src/retention/archive-format.js';
import { createArchiveSource } from '../../src/retention/campaign-reader.js';
import type { PruneDeps } from '../../src/retention/prune-campaigns.js';
import { truncateArchive, writeBombArchive } from '../helpers/hostile-archive.js';
import { dashboardFixture, type DashboardFixture } from './dashboard-fixture.js';
import { pruneDeps, seedFinishedCampaign } from './retention-fixture.js';

// Issue 27 point 3: a crafted or damaged archive is an error for the one request that reads it;
// the dashboard process (and the API it serves) keeps answering.
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

async function archivedDashboard(damage: (file: string, id: string) => Promise<void>) {
  const id = await seedFinishedCampaign(fx.store, 50);
  await archiveCampaign(deps, id);
  const file = join(deps.archiveDir, archiveFileName(id));
  await damage(file, id);
  const app = await buildDashboard(
    fx.deps({
      retention: {
        archives: createArchiveSource(deps.index, deps.archiveDir),
        memory: { bytesPerDevice: 1_000, warnAt: 0.999, refuseAt: 1 },
      },
    }),
  );
  return { id, app, file };
}

/**
 * The export streams: once the reply has started, a damaged archive can only cut the connection
 * (inject rejects), before that it is a 5xx. Either way never a well-formed 200.
 */
async function exportOutcome(
  app: Awaited<ReturnType<typeof buildDashboard>>,
  id: string,
): Promise<'failed' | 'served'> {
  try {
    const reply = await app.inject({ url: `/campaigns/${id}/export.csv`, headers: AUTH });
    return reply.statusCode >= 500 ? 'failed' : 'served';
  } catch (error) {
    expect((error as Error).message).toMatch(/destroyed/);
    return 'failed';
  }
}

describe('the dashboard and a hostile archive', () => {
  it('answers the export of a 700 MiB-line archive with an error and keeps serving', async () => {
    const { id, app } = await archivedDashboard(async (file, campaignId) => {
      const campaign = await deps.index.get(campaignId);
      if (!campaign) throw new Error('not archived');
      writeBombArchive(file, campaign, 700);
    });
    const started = Date.now();
    expect(await exportOutcome(app, id)).toBe('failed');
    expect(Date.now() - started).toBeLessThan(30_000);
    const health = await app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    await app.close();
  });

  it('answers the export of a truncated archive with an error and keeps serving', async () => {
    const { id, app } = await archivedDashboard(async (file) => {
      truncateArchive(file);
      await Promise.resolve();
    });
    expect(await exportOutcome(app, id)).toBe('failed');
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });
});
