import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { cliTestEnv, ensureBuilt, spawnCli, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { countIn, startTenantFleet, waitUntil, type TenantFleet } from '../helpers/tenant-fleet.js';

/** Devices per campaign; every tenant runs one campaign per class. */
const PER_CAMPAIGN = 15;

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-tenants-e2e-'));
}, 240_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('three tenants, all three classes, real worker processes', () => {
  it('gives every device of every tenant exactly one action through 5xx, lost replies and SIGKILLed workers, without a 429', async () => {
    const prefix = uniquePrefix('e2e-tenants');
    const redis = new Redis(testRedisUrl());
    const workers: CliProcess[] = [];
    let fleet: TenantFleet | undefined;
    try {
      fleet = await startTenantFleet({
        dir,
        perCampaign: PER_CAMPAIGN,
        faultRate: 0.05,
        lostRate: 0.05,
      });
      const env = { ...cliTestEnv(prefix), ...fleet.env };
      const workerArgs = ['worker', '--concurrency', '8', '--lock-duration', '2s'];
      const campaigns = await fleet.scanAll(env);
      // Workers start once all nine wait: every tenant and every class compete from the start.
      workers.push(spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env }));
      const count = async (id: string, state: string) =>
        Number((await redis.hget(campaignKeys(prefix, id).counts, state)) ?? 0);
      const requested = () => countIn(redis, prefix, campaigns, 'requested');
      const all = campaigns.length * PER_CAMPAIGN;

      // SIGKILL a worker twice while devices of every tenant are in flight; a new one replaces it.
      for (const share of [0.25, 0.55]) {
        await waitUntil(
          async () => (await requested()) >= all * share,
          `${share} requested`,
          300_000,
          () => Promise.all(campaigns.map((id) => redis.hgetall(campaignKeys(prefix, id).counts))),
        );
        const victim = workers.find(
          (w) => w.child.exitCode === null && w.child.signalCode === null,
        );
        victim!.child.kill('SIGKILL');
        expect((await victim!.exited).signal).toBe('SIGKILL');
        workers.push(spawnCli(workerArgs, { env }));
      }
      for (const id of campaigns) {
        await waitUntil(
          async () => (await redis.hget(campaignKeys(prefix, id).campaign, 'state')) === 'finished',
          `campaign ${id} to finish`,
        );
        expect(await count(id, 'requested'), id).toBe(PER_CAMPAIGN);
      }
      fleet.expectExactlyOnce();
      // The faults happened: 5xx answers and lost replies somewhere across the three tenants.
      const faults = fleet.sims.reduce((n, s) => n + s.stats().faults + s.stats().lostReplies, 0);
      expect(faults).toBeGreaterThan(0);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited.catch(() => undefined)));
      await fleet?.close();
      redis.disconnect();
      await cleanupPrefix(testRedisUrl(), prefix);
    }
  }, 900_000);
});
