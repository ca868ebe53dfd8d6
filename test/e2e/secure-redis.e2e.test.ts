import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/shared/package-root.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { ensureBuilt, runCli, spawnCli } from '../helpers/cli.js';
import { startSecureRedis, type SecureRedis } from '../helpers/secure-redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const DEVICES = Array.from({ length: 6 }, (_, i) => id(i + 1));

let redis: SecureRedis;
let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  spawnSync(process.execPath, ['scripts/copy-assets.js'], { cwd: packageRoot() });
  redis = await startSecureRedis();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-secure-'));
  writeFileSync(join(dir, 'password'), `${redis.password}\n`);
  writeFileSync(join(dir, 'devices.txt'), DEVICES.join('\n'));
}, 240_000);

afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Everything a process needs to reach the TLS Redis as the ACL user, by the documented names. */
const secureEnv = (): NodeJS.ProcessEnv => ({
  REDIS_URL: redis.url,
  FLEETSCAN_REDIS_USERNAME: redis.username,
  FLEETSCAN_REDIS_PASSWORD_FILE: join(dir, 'password'),
  FLEETSCAN_REDIS_CA_FILE: redis.caFile,
  FLEETSCAN_PREFIX: 'fleetscan-acl',
  FLEETSCAN_BUDGET_PREFIX: 'fleetscan-acl-budget',
  FLEETSCAN_RATE_LIMITS: '100/600ms,1500/36s',
  LOG_LEVEL: 'warn',
});

describe('a Redis with TLS and an ACL user', () => {
  it('runs a campaign to the end through rediss:// as a user limited to fleetscan keys', async () => {
    // The simulator's certificate is not Redis's: only FLEETSCAN_REDIS_CA_FILE makes Redis trusted.
    const apiTls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'api-ca.pem'), apiTls.cert);
    await withSimulator(
      { tls: apiTls, machines: DEVICES.map((m) => ({ id: m })) },
      async ({ url, sim }) => {
        const env = {
          ...secureEnv(),
          MDE_API_URL: url,
          MDE_AUTHORITY_HOST: url,
          MDE_TENANT_ID: sim.credentials.tenantId,
          MDE_CLIENT_ID: sim.credentials.clientId,
          MDE_CLIENT_SECRET: sim.credentials.clientSecret,
          NODE_EXTRA_CA_CERTS: join(dir, 'api-ca.pem'),
        };
        const scan = await runCli(
          ['scan', '--devices', join(dir, 'devices.txt'), '--comment', 'tls', '--json'],
          { env },
        );
        expect(scan.code, scan.stderr).toBe(0);
        const { campaignId } = JSON.parse(scan.stdout) as { campaignId: string };
        const worker = spawnCli(['worker', '--concurrency', '4'], { env });
        try {
          const status = await runCli(
            ['status', campaignId, '--wait', '--interval', '100ms', '--json', '--exit-status'],
            { env, timeoutMs: 60_000 },
          );
          expect(status.code, status.stderr).toBe(0);
          const body = JSON.parse(status.stdout) as {
            campaign: { state: string; counts: { requested: number } };
          };
          expect(body.campaign).toMatchObject({ state: 'finished', counts: { requested: 6 } });
          expect(sim.stats().byFamily.scan).toBe(6);
          expect(sim.stats().actionsCreated).toBe(6);
        } finally {
          worker.child.kill('SIGTERM');
          await worker.exited;
        }
        expect(worker.stderr()).not.toContain(redis.password);
      },
    );
  }, 120_000);

  it('says once that the credentials were refused, without the password', async () => {
    const wrong = join(dir, 'wrong-password');
    writeFileSync(wrong, 'not-the-password');
    const result = await runCli(['status'], {
      env: { ...secureEnv(), FLEETSCAN_REDIS_PASSWORD_FILE: wrong },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused the credentials: check FLEETSCAN_REDIS_USERNAME/);
    expect(result.stderr).not.toContain('not-the-password');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says that the certificate is not trusted and how to fix it', async () => {
    const env = secureEnv();
    delete env['FLEETSCAN_REDIS_CA_FILE'];
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not trust .*set FLEETSCAN_REDIS_CA_FILE/);
  });

  it('refuses a key outside the ACL user prefixes with the rule to grant', async () => {
    const result = await runCli(['status'], {
      env: { ...secureEnv(), FLEETSCAN_PREFIX: 'other-app' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/denied a command or key to this ACL user/);
  });
});
