import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../src/campaigns/campaign.js';
import { buildSimulator, type Simulator } from '../../src/simulator/build-simulator.js';
import { cliTestEnv, ensureBuilt, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';

// Microsoft's windows at time scale 100: a minute is 600 ms.
const TIME_SCALE = 100;
const RATE_LIMITS = '100/600ms,1500/36000ms';
const TENANTS = [
  { name: 'contoso', cloud: 'commercial' },
  { name: 'fabrikam', cloud: 'commercial' },
  { name: 'gcc-agency', cloud: 'gcc-high' },
] as const;
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

async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 300_000,
  state: () => Promise<unknown> = () => Promise.resolve(''),
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await state())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('three tenants, all three classes, real worker processes', () => {
  it('gives every device of every tenant exactly one action through 5xx, lost replies and SIGKILLed workers, without a 429', async () => {
    const prefix = uniquePrefix('e2e-tenants');
    const redis = new Redis(testRedisUrl());
    const sims: Simulator[] = [];
    const workers: CliProcess[] = [];
    try {
      // Each tenant is its own Defender tenant and app: its own simulator, fleet and windows.
      const urls: string[] = [];
      for (const [i] of TENANTS.entries()) {
        const sim = await buildSimulator({
          fleet: PER_CAMPAIGN * PRIORITIES.length,
          seed: 21 + i,
          timeScale: TIME_SCALE,
          latencyMs: [1, 5],
          faultRate: 0.05,
          lostRate: 0.05,
          fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
          tenantId: `0000000${i + 1}-0000-4000-8000-00000000e2e0`,
          clientId: `0000000${i + 1}-0000-4000-8000-0000000a9900`,
        });
        sims.push(sim);
        await sim.app.listen({ port: 0, host: '127.0.0.1' });
        urls.push(`http://127.0.0.1:${String((sim.app.server.address() as AddressInfo).port)}`);
      }
      const config = join(dir, 'tenants.yaml');
      const tokens: Record<string, string> = {};
      const lines = [
        'defender: { requestTimeout: 3s }',
        'limits: { guard: 5ms, throttleDefault: 600ms }',
        'scan: { attempts: 8, backoff: 50ms, pendingRetry: 300ms, pendingRetryCap: 2s, actionPoll: 1s }',
        'tenants:',
      ];
      for (const [i, tenant] of TENANTS.entries()) {
        const sim = sims[i]!;
        lines.push(
          `  - name: ${tenant.name}`,
          `    cloud: ${tenant.cloud}`,
          `    tenantId: ${sim.credentials.tenantId}`,
          `    clientId: ${sim.credentials.clientId}`,
          `    apiUrl: ${urls[i]!}`,
          `    accessTokenEnv: E2E_TOKEN_${i}`,
        );
        tokens[`E2E_TOKEN_${i}`] = sim.issueToken({ lifetimeSec: 3_600 });
      }
      writeFileSync(config, `${lines.join('\n')}\n`);
      const env = {
        ...cliTestEnv(prefix),
        ...tokens,
        FLEETSCAN_CONFIG: config,
        FLEETSCAN_RATE_LIMITS: RATE_LIMITS,
      };
      // Nine campaigns: every tenant, every class, each `fleetscan scan` its own process; the
      // tenants side by side (three processes at once keep a loaded host within the timeouts).
      const workerArgs = ['worker', '--concurrency', '8', '--lock-duration', '2s'];
      const scanOne = async (i: number, k: number) => {
        const tenant = TENANTS[i]!;
        const priority = PRIORITIES[k]!;
        const ids = sims[i]!.machines.slice(k * PER_CAMPAIGN, (k + 1) * PER_CAMPAIGN);
        const file = join(dir, `${tenant.name}-${priority}.txt`);
        writeFileSync(file, `${ids.map((m) => m.id).join('\n')}\n`);
        const scan = await runCli(
          [
            'scan',
            '--devices',
            file,
            '--comment',
            'e2e tenants',
            '--tenant',
            tenant.name,
            '--priority',
            priority,
            '--json',
          ],
          { env, timeoutMs: 300_000 },
        );
        expect(scan.code, scan.stderr).toBe(0);
        const out = JSON.parse(scan.stdout) as { campaignId: string };
        expect(out).toMatchObject({ tenant: tenant.name, priority, accepted: PER_CAMPAIGN });
        return out.campaignId;
      };
      const perTenant = await Promise.all(
        TENANTS.map(async (_, i) => {
          const ids: string[] = [];
          for (const k of PRIORITIES.keys()) ids.push(await scanOne(i, k));
          return ids;
        }),
      );
      const campaigns = perTenant.flat();
      // Workers start once all nine wait: every tenant and every class compete from the start.
      workers.push(spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env }));
      const count = async (id: string, state: string) =>
        Number((await redis.hget(campaignKeys(prefix, id).counts, state)) ?? 0);
      const requested = async () => {
        let n = 0;
        for (const id of campaigns) n += await count(id, 'requested');
        return n;
      };
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

      // Ground truth: each tenant's own simulator created exactly one action per device.
      for (const [i, sim] of sims.entries()) {
        const created = new Map<string, number>();
        for (const call of sim.calls()) {
          if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
          created.set(call.machineId, (created.get(call.machineId) ?? 0) + 1);
        }
        for (const m of sim.machines)
          expect(created.get(m.id), `${TENANTS[i]!.name} ${m.id}`).toBe(1);
        expect(sim.stats().throttled, TENANTS[i]!.name).toBe(0);
      }
      // The faults happened: 5xx answers and lost replies somewhere across the three tenants.
      const faults = sims.reduce((n, s) => n + s.stats().faults + s.stats().lostReplies, 0);
      expect(faults).toBeGreaterThan(0);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited.catch(() => undefined)));
      for (const sim of sims) await sim.close();
      redis.disconnect();
      await cleanupPrefix(testRedisUrl(), prefix);
    }
  }, 900_000);
});
