import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { laneKeys } from '../../src/lanes/lane-keys.js';
import { runCli } from '../helpers/cli.js';
import { useCliFixture } from '../helpers/cli-fixture.js';

const A = 'a'.repeat(40);
let dir: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let redis: Redis;

useCliFixture('clibreaker', (t) => ({ dir, prefix, env, redis } = t), {
  files: { 'devices.csv': `machineId\n${A}\n` },
});

const cli = (args: string[]) => runCli(args, { env });
/** The breaker of the budget of a config without credentials (what the workers would write). */
const breakerKey = () => laneKeys(prefix, '{commercial:static-token:static-token:scan}').breaker;
const MESSAGE =
  'Entra token request failed: invalid_client (HTTP 401). Check the tenant id, client id and client secret (or certificate) and the authority URL, then restart the workers.';

describe('a blocked tenant in status and tenants', () => {
  // Five CLI runs: on a loaded machine each can take many seconds.
  it(
    'shows the block with its reason, next probe and fix, in text and JSON',
    { timeout: 300_000 },
    async () => {
      const scanned = await cli([
        'scan',
        '--devices',
        join(dir, 'devices.csv'),
        '--comment',
        'b',
        '--json',
      ]);
      expect(scanned.code, scanned.stderr).toBe(0);
      const { campaignId } = JSON.parse(scanned.stdout) as { campaignId: string };
      const since = Date.UTC(2026, 11, 1, 10, 0, 0);
      await redis.hset(breakerKey(), {
        reason: 'credentials_rejected',
        message: MESSAGE,
        since,
        probeAt: since + 40_000,
        failures: 3,
      });
      const blocked = {
        reason: 'credentials_rejected',
        message: MESSAGE,
        since: '2026-12-01T10:00:00.000Z',
        nextProbeAt: '2026-12-01T10:00:40.000Z',
        failedProbes: 3,
      };

      const tenantsJson = await cli(['tenants', '--json']);
      expect(tenantsJson.code, tenantsJson.stderr).toBe(0);
      expect(JSON.parse(tenantsJson.stdout)).toMatchObject({
        tenants: [{ name: 'default', blocked }],
      });
      const tenantsText = await cli(['tenants']);
      expect(tenantsText.stdout).toMatch(
        /default\s+commercial\s+.*BLOCKED \(credentials_rejected\)/,
      );
      expect(tenantsText.stdout).toContain(
        `tenant default BLOCKED (credentials_rejected) since 2026-12-01T10:00:00.000Z, next probe 2026-12-01T10:00:40.000Z: ${MESSAGE}`,
      );

      const one = await cli(['status', campaignId, '--json']);
      expect(one.code, one.stderr).toBe(0);
      expect(JSON.parse(one.stdout)).toMatchObject({ budget: { blocked } });
      const all = await cli(['status', '--json']);
      expect(JSON.parse(all.stdout)).toMatchObject({
        budget: { blocked },
        blocked: [
          { tenant: 'default', budgetId: 'commercial:static-token:static-token', ...blocked },
        ],
      });
    },
  );
});
