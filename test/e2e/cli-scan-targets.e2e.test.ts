import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { packageRoot } from '../../src/shared/package-root.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
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

beforeAll(async () => {
  await ensureBuilt();
  spawnSync(process.execPath, ['scripts/copy-assets.js'], { cwd: packageRoot() });
}, 240_000);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-targets-'));
  prefix = uniquePrefix('targets');
  redis = new Redis(testRedisUrl());
});

afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

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
