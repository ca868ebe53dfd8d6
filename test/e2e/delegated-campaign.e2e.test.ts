import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';
import { ensureBuilt, runCli, spawnCli, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { withSimulator } from '../helpers/with-simulator.js';

const USER = 'responder@contoso.example';
const SECRET_CANARY = 'client-secret-canary-7f3e';

let dir: string;
const prefix = uniquePrefix('delegated');

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fleetscan-delegated-e2e-'));
}, 240_000);

afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  rmSync(dir, { recursive: true, force: true });
});

/** Every access and refresh token in an MSAL cache file (MSAL keeps them under `secret`). */
function tokensIn(cacheFile: string): string[] {
  const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<
    string,
    Record<string, { secret?: string }> | undefined
  >;
  return ['AccessToken', 'RefreshToken', 'IdToken'].flatMap((kind) =>
    Object.values(cache[kind] ?? {})
      .map((entry) => entry.secret)
      .filter((s): s is string => typeof s === 'string' && s.length > 20),
  );
}

/** Plays the user at the sign-in page: POSTs the form over HTTPS, trusting the simulator. */
function postForm(
  url: string,
  fields: Record<string, string>,
  ca: string,
): Promise<{ status: number | undefined; body: string }> {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('delegated sign-in end to end', () => {
  it('signs in with a device code, scans as the user across two workers and token refreshes, fails only devices outside the user’s groups', async () => {
    const tls = await createSelfSignedCertificate();
    writeFileSync(join(dir, 'ca.pem'), tls.cert);
    const redis = new Redis(testRedisUrl());
    const workers: CliProcess[] = [];
    const outputs: string[] = [];
    const tokens = new Set<string>();
    try {
      await withSimulator(
        {
          fleet: 40,
          seed: 3,
          tls,
          fleetMix: {
            inactive: 0,
            excluded: 0,
            duplicate: 0,
            unsupportedOs: 0,
            offline: 0,
            busy: 0,
          },
          users: [{ username: USER, deviceGroups: ['Servers'] }],
          deviceCodeIntervalSec: 1,
          // MSAL renews a token 5 minutes before it expires: 303 s makes each token good for
          // ~3 s, so the campaign runs across many refreshes through the shared cache.
          tokenLifetimeSec: 303,
          lifecycle: { pendingMs: 500, inProgressMs: 1_000 },
        },
        async ({ url, sim }) => {
          const cacheFile = join(dir, 'cache', 'tokens.json');
          const env = {
            REDIS_URL: testRedisUrl(),
            FLEETSCAN_PREFIX: prefix,
            FLEETSCAN_BUDGET_PREFIX: prefix,
            MDE_API_URL: url,
            MDE_AUTHORITY_HOST: url,
            MDE_TENANT_ID: sim.credentials.tenantId,
            MDE_CLIENT_ID: sim.credentials.clientId,
            // Set but unused in delegated mode: it must never show up anywhere.
            MDE_CLIENT_SECRET: SECRET_CANARY,
            MDE_AUTH: 'delegated',
            FLEETSCAN_TOKEN_CACHE: cacheFile,
            NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
            LOG_LEVEL: 'info',
            // 40 scan calls at 4 per second: the campaign spans several ~3 s token lifetimes.
            FLEETSCAN_RATE_LIMITS: '4/1s,1500/1h',
            FLEETSCAN_RATE_RESERVE: '0',
          };
          const snapshot = () => {
            for (const token of tokensIn(cacheFile)) tokens.add(token);
          };

          // Not signed in yet: auth status says so and exits 1.
          const before = await runCli(['auth', 'status'], { env });
          expect(before.code).toBe(1);
          expect(before.stdout).toMatch(/signed in as: nobody/);
          expect(before.stdout).toMatch(/run fleetscan login/);
          outputs.push(before.stdout, before.stderr);

          // The user answers the code shown on stderr, as they would in a browser.
          const login = spawnCli(['login'], { env });
          await waitForOutput(login, (text) => /enter the code [A-Z]+/.test(text));
          const code = /enter the code ([A-Z]+)/.exec(login.stderr())?.[1] ?? '';
          const page = await postForm(`${url}/devicelogin`, { code, user: USER }, tls.cert);
          expect(page).toEqual({ status: 200, body: 'Signed in. You can close this window.' });
          const signedIn = await login.exited;
          outputs.push(signedIn.stdout, signedIn.stderr);
          expect(signedIn.code).toBe(0);
          expect(signedIn.stdout).toMatch(`Signed in as ${USER} (tenant default).`);
          expect(signedIn.stdout).toMatch(`Token cache: ${cacheFile} (plaintext, mode 0600)`);
          expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
          snapshot();

          const status = await runCli(['auth', 'status', '--json'], { env });
          outputs.push(status.stdout, status.stderr);
          expect(status.code).toBe(0);
          expect(JSON.parse(status.stdout)).toMatchObject({
            tenant: 'default',
            mode: 'delegated',
            credential: 'delegated',
            cachePath: cacheFile,
            user: USER,
            ok: true,
            permissions: ['Machine.Scan', 'Machine.Read.All'],
          });

          const doctor = await runCli(['doctor', '--json'], { env });
          outputs.push(doctor.stdout, doctor.stderr);
          const checks = (
            JSON.parse(doctor.stdout) as {
              checks: { id: string; status: string; summary: string }[];
            }
          ).checks;
          expect(checks.find((c) => c.id === 'tenant.token')?.summary).toMatch(
            /token obtained \(delegated\)/,
          );
          expect(checks.find((c) => c.id === 'tenant.permissions')?.summary).toBe(
            'scopes (scp) in the token: Machine.Scan, Machine.Read.All',
          );
          expect(checks.find((c) => c.id === 'tenant.directory-roles')?.summary).toMatch(
            `signed in as ${USER}`,
          );

          const inGroup = sim.machines
            .filter((m) => m.rbacGroupName === 'Servers')
            .map((m) => m.id);
          const outside = sim.machines
            .filter((m) => m.rbacGroupName !== 'Servers')
            .map((m) => m.id);
          expect(inGroup.length).toBeGreaterThan(3);
          expect(outside.length).toBeGreaterThan(3);
          writeFileSync(join(dir, 'devices.txt'), `${sim.machines.map((m) => m.id).join('\n')}\n`);
          const scan = await runCli(
            ['scan', '--devices', join(dir, 'devices.txt'), '--comment', 'delegated e2e', '--json'],
            { env },
          );
          outputs.push(scan.stdout, scan.stderr);
          expect(scan.code).toBe(0);
          const { campaignId } = JSON.parse(scan.stdout) as { campaignId: string };

          const issuedBefore = sim.stats().tokensIssued;
          const workerArgs = ['worker', '--concurrency', '2'];
          workers.push(spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env }));
          const store = createCampaignStore(redis, prefix);
          await waitUntil(async () => {
            snapshot();
            const c = await store.getCampaign(campaignId);
            return (c?.counts.requested ?? 0) + (c?.counts.failed ?? 0) === sim.machines.length;
          }, 'the campaign to finish');

          const campaign = await store.getCampaign(campaignId);
          expect(campaign?.counts).toMatchObject({
            requested: inGroup.length,
            failed: outside.length,
          });
          for (const id of outside) {
            const device = await store.getDevice(campaignId, id);
            expect(device?.state).toBe('failed');
            expect(device?.reason).toMatch(/Forbidden: .*outside the user's device groups/);
          }
          // Only the user's devices got an action, each exactly one, requested as the user.
          const actions = sim.actions().filter((a) => a.requestorComment.includes(campaignId));
          expect(actions.map((a) => a.machineId).sort()).toEqual([...inGroup].sort());
          expect(new Set(actions.map((a) => a.requestor))).toEqual(new Set([USER]));
          // Tokens were refreshed (refresh-token grants) while the campaign ran, from the shared cache.
          expect(sim.stats().tokensIssued - issuedBefore).toBeGreaterThanOrEqual(3);
          expect(sim.stats().byStatus['401'] ?? 0).toBe(0);
          // Both worker processes did part of the work.
          for (const worker of workers) {
            expect(worker.stdout() + worker.stderr()).toMatch(/scan requested/);
          }

          const exported = await runCli(['export', campaignId, '--format', 'ndjson'], { env });
          const campaignStatus = await runCli(['status', campaignId, '--json'], { env });
          outputs.push(
            exported.stdout,
            exported.stderr,
            campaignStatus.stdout,
            campaignStatus.stderr,
          );
          expect(exported.stdout).toMatch(/outside the user's device groups/);

          // The dashboard's pages, export and metrics, for the canary below.
          const dashboard = spawnCli(['dashboard', '--port', '0'], { env });
          workers.push(dashboard);
          await waitForOutput(dashboard, (text) =>
            /dashboard listening on http:\/\/[^"\s]+/.test(text),
          );
          const base =
            /dashboard listening on (http:\/\/[^"\s]+)/.exec(
              dashboard.stdout() + dashboard.stderr(),
            )?.[1] ?? '';
          for (const path of [
            '/',
            `/campaigns/${campaignId}`,
            `/campaigns/${campaignId}/export.csv`,
            '/metrics',
          ]) {
            const response = await fetch(`${base}${path}`);
            expect(response.status, path).toBe(200);
            outputs.push(await response.text());
          }

          // The sign-in is revoked: the next refresh fails, the workers hold the queue and say
          // "run fleetscan login", and no device of the new campaign fails for it.
          sim.revokeRefreshTokens(USER);
          const second = await runCli(
            ['scan', '--devices', join(dir, 'devices.txt'), '--comment', 'after revoke', '--json'],
            { env },
          );
          const secondId = (JSON.parse(second.stdout) as { campaignId: string }).campaignId;
          await waitForOutput(
            workers[0] as CliProcess,
            (text) => /run fleetscan login/.test(text),
            60_000,
          );
          const held = await store.getCampaign(secondId);
          expect(held?.counts.failed ?? 0).toBe(0);
          expect(held?.counts.requested ?? 0).toBeLessThan(inGroup.length);

          const revokedStatus = await runCli(['auth', 'status'], { env });
          outputs.push(revokedStatus.stdout, revokedStatus.stderr);
          expect(revokedStatus.code).toBe(1);
          expect(revokedStatus.stdout).toMatch(/refresh token refused\); run fleetscan login/);

          const logout = await runCli(['logout'], { env });
          outputs.push(logout.stdout, logout.stderr);
          expect(logout.stdout).toBe(`Signed out ${USER} (tenant default).\n`);
        },
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGTERM');
      for (const worker of workers) {
        const result = await worker.exited;
        outputs.push(result.stdout, result.stderr);
      }
      redis.disconnect();
    }
    // The canary: no secret, access token or refresh token in any output, log or export.
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    const everything = outputs.join('\n');
    expect(everything).not.toContain(SECRET_CANARY);
    for (const token of tokens) expect(everything.includes(token)).toBe(false);
    expect(everything).not.toMatch(/sim-rt-|eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
  }, 300_000);
});
