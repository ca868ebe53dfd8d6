import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { cliTestEnv, runCli, spawnCli, waitForOutput } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';
import { testRedisUrl } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const machines = [
  { id: id(1), machineTags: ['Finance'] },
  { id: id(2), machineTags: ['Finance'], healthStatus: 'Inactive' },
  { id: id(3), machineTags: ['Finance'], isExcluded: true },
  { id: id(4), machineTags: ['HR'] },
  { id: id(5), machineTags: ['Finance'], osPlatform: 'Windows7' },
  { id: id(6), machineTags: ['Finance', 'HR'], rbacGroupName: 'Zurich' },
];

let dir: string;
let prefix: string;
let redis: Redis;

useCliFixture('targets', (t) => ({ dir, prefix, redis } = t));

describe('fleetscan scan --tag / --group', () => {
  it('resolves targets through List Machines and counts the skipped ones by reason', async () => {
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'ca.pem'), tls.cert);
    await withSimulator({ machines, tls }, async ({ url, sim }) => {
      const env = {
        REDIS_URL: testRedisUrl(),
        FLEETSCAN_PREFIX: prefix,
        FLEETSCAN_BUDGET_PREFIX: prefix,
        MDE_API_URL: url,
        MDE_AUTHORITY_HOST: url,
        MDE_TENANT_ID: sim.credentials.tenantId,
        MDE_CLIENT_ID: sim.credentials.clientId,
        MDE_CLIENT_SECRET: sim.credentials.clientSecret,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        LOG_LEVEL: 'warn',
      };
      const tagged = await runCli(['scan', '--tag', 'Finance', '--comment', 'tags', '--json'], {
        env,
      });
      expect(tagged.code, tagged.stderr).toBe(0);
      const summary = JSON.parse(tagged.stdout) as { campaignId: string };
      expect(summary).toMatchObject({
        accepted: 2,
        invalid: 0,
        duplicate: 0,
        skipped: { inactive: 1, excluded: 1, 'unsupported-platform': 1 },
      });
      const store = createCampaignStore(redis, prefix);
      expect((await store.getCampaign(summary.campaignId))?.source).toBe('tag:Finance');
      expect((await store.getDevice(summary.campaignId, id(6)))?.state).toBe('queued');

      const grouped = await runCli(
        ['scan', '--group', 'zurich', '--include-inactive', '--comment', 'group', '--json'],
        { env },
      );
      expect(grouped.code, grouped.stderr).toBe(0);
      expect(JSON.parse(grouped.stdout)).toMatchObject({ accepted: 1, skipped: {} });
    });
  });

  it('exits 1 without credentials, before any campaign exists', async () => {
    const result = await runCli(['scan', '--tag', 'Finance', '--comment', 'x'], {
      env: {
        REDIS_URL: testRedisUrl(),
        FLEETSCAN_PREFIX: prefix,
        FLEETSCAN_BUDGET_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/defender\./);
    expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
  });
});

describe('fleetscan scan --all', () => {
  it('scans every eligible device of the tenant, skipping as --query does, one action each', async () => {
    await withSimulator({ machines, latencyMs: [1, 3] }, async ({ url, sim }) => {
      const env = { ...cliTestEnv(prefix), MDE_API_URL: url, MDE_ACCESS_TOKEN: sim.issueToken() };
      const eligible = [id(1), id(4), id(6)];
      const skipped = { inactive: 1, excluded: 1, 'unsupported-platform': 1 };

      const dry = await runCli(['scan', '--all', '--comment', 'all', '--dry-run', '--json'], {
        env,
      });
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ source: 'all', devices: 3, skipped });
      expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);

      const started = await runCli(['scan', '--all', '--comment', 'Fleet-wide', '--json'], {
        env,
      });
      expect(started.code, started.stderr).toBe(0);
      const summary = JSON.parse(started.stdout) as { campaignId: string };
      expect(summary).toMatchObject({ accepted: 3, invalid: 0, duplicate: 0, skipped });
      const store = createCampaignStore(redis, prefix);
      expect((await store.getCampaign(summary.campaignId))?.source).toBe('all');
      // One List Machines pass without a $filter: every device, judged client-side.
      const listings = sim.calls().filter((c) => c.family === 'machines');
      expect(listings.length).toBeGreaterThan(0);
      expect(listings.every((c) => !decodeURIComponent(c.path).includes('$filter'))).toBe(true);

      const worker = spawnCli(['worker', '--concurrency', '2'], {
        env: { ...env, LOG_LEVEL: 'info' },
      });
      try {
        await waitForOutput(worker, (t) => t.includes('worker started'), 60_000);
        const waited = await runCli(['status', summary.campaignId, '--wait', '--json'], {
          env,
          timeoutMs: 60_000,
        });
        expect(waited.code, waited.stderr).toBe(0);
      } finally {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
      const actions = sim.actions().filter((a) => a.requestorComment.includes(summary.campaignId));
      expect(actions.map((a) => a.machineId).sort()).toEqual(eligible);
    });
  }, 120_000);

  it('refuses --all with another device source, and --help shows it with an example', async () => {
    const env = cliTestEnv(prefix);
    const mixed = await runCli(['scan', '--all', '--tag', 'Finance', '--comment', 'x'], { env });
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(
      /only one of --devices, --query\/--tag\/--group, --all, or one of --hunting/,
    );
    const column = await runCli(['scan', '--all', '--column', 'id', '--comment', 'x'], { env });
    expect(column.code).toBe(1);
    expect(column.stderr).toMatch(/--column and --strict apply to --devices only/);
    expect(await redis.zcard(`${prefix}:campaigns`)).toBe(0);
    const help = await runCli(['scan', '--help'], { env });
    expect(help.stdout).toMatch(/--all +every device of the tenant/);
    expect(help.stdout).toMatch(/fleetscan scan --all .*--comment "Fleet-wide sweep"/);
  });
});
