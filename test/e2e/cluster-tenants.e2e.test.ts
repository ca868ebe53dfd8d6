import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { createRedis, type Redis } from '../../src/shared/redis.js';
import { cliTestEnv, ensureBuilt, spawnCli, type CliProcess } from '../helpers/cli.js';
import { startLocalCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis.js';
import { countIn, startTenantFleet, waitUntil, type TenantFleet } from '../helpers/tenant-fleet.js';

/** Devices per campaign: 3 tenants x 3 classes x 30 = 270 devices. */
const PER_CAMPAIGN = 30;
/** 5xx answers and lost replies: reconcile and retries run while the master leaves. */
const FAULTS = { faultRate: 0.03, lostRate: 0.03 };

let dir: string;
let cluster: LocalCluster;
beforeAll(async () => {
  cluster = await startLocalCluster();
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-cluster-e2e-'));
}, 240_000);
afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** How a master leaves mid-run: a coordinated failover, or a SIGKILL the replica takes over from. */
type Disruption = 'failover' | 'kill';

/**
 * Nine campaigns (three tenants, three classes) on the cluster; once a fifth is requested, the
 * master holding the most campaigns leaves. Returns the requested count when it had left.
 */
async function runAcrossDisruption(disruption: Disruption) {
  const prefix = uniquePrefix(`e2e-cluster-${disruption}`);
  const redis: Redis = createRedis(cluster.url, { connectionName: 'fleetscan-e2e-reader' });
  const workers: CliProcess[] = [];
  let fleet: TenantFleet | undefined;
  try {
    fleet = await startTenantFleet({ dir, perCampaign: PER_CAMPAIGN, ...FAULTS });
    const env = { ...cliTestEnv(prefix), ...fleet.env, REDIS_URL: cluster.url };
    const campaigns = await fleet.scanAll(env);
    const requested = () => countIn(redis, prefix, campaigns, 'requested');
    const all = campaigns.length * PER_CAMPAIGN;

    const owners = await Promise.all(
      campaigns.map((id) => cluster.masterOf(campaignKeys(prefix, id).campaign)),
    );
    const tally = new Map<number, number>();
    for (const port of owners) tally.set(port, (tally.get(port) ?? 0) + 1);
    const [busiest = 0] = [...tally].sort((a, b) => b[1] - a[1]).map(([port]) => port);
    const moved = campaigns[owners.indexOf(busiest)] ?? '';

    // Few places per worker: the run lasts long enough for the master to leave in its middle.
    const workerArgs = ['worker', '--concurrency', '2', '--lock-duration', '2s'];
    workers.push(spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env }));
    await waitUntil(async () => (await requested()) >= all * 0.2, '20% requested');
    const promoted =
      disruption === 'failover'
        ? await cluster.failover(busiest)
        : await cluster.killMaster(busiest);
    const atDisruption = await requested();
    expect(atDisruption, 'the master left before the end of the run').toBeLessThan(all);
    expect(await cluster.masterOf(campaignKeys(prefix, moved).campaign)).toBe(promoted);

    for (const id of campaigns) {
      await waitUntil(
        async () => (await redis.hget(campaignKeys(prefix, id).campaign, 'state')) === 'finished',
        `campaign ${id} to finish`,
        300_000,
        () => redis.hgetall(campaignKeys(prefix, id).counts),
      );
      expect(await countIn(redis, prefix, [id], 'requested'), id).toBe(PER_CAMPAIGN);
    }
    fleet.expectExactlyOnce();
    // The workers rode through it: none died.
    for (const worker of workers) expect(worker.child.exitCode, worker.stderr()).toBeNull();
    return { atDisruption, all };
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited.catch(() => undefined)));
    await fleet?.close();
    redis.disconnect();
  }
}

describe('Redis Cluster: three tenants, all three classes, real worker processes', () => {
  it('requests every device exactly once, without a 429, across a failover of the busiest master', async () => {
    const { atDisruption, all } = await runAcrossDisruption('failover');
    console.log(`CLUSTER FAILOVER with ${String(atDisruption)} of ${String(all)} requested`);
  }, 600_000);

  it('requests every device exactly once after the busiest master is SIGKILLed mid-run', async () => {
    const { atDisruption, all } = await runAcrossDisruption('kill');
    console.log(`SIGKILL of a master with ${String(atDisruption)} of ${String(all)} requested`);
  }, 600_000);
});
