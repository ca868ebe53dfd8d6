import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PRIORITIES } from '../../src/campaigns/campaign.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import type { Redis } from '../../src/shared/redis.js';
import { buildSimulator, type Simulator } from '../../src/simulator/build-simulator.js';
import { runCli } from './cli.js';

/** Microsoft's windows at time scale 100: a minute is 600 ms. */
export const TIME_SCALE = 100;
export const RATE_LIMITS = '100/600ms,1500/36000ms';
export const TENANTS = [
  { name: 'contoso', cloud: 'commercial' },
  { name: 'fabrikam', cloud: 'commercial' },
  { name: 'gcc-agency', cloud: 'gcc-high' },
] as const;

/** Three tenants, each its own Defender tenant and app: its own simulator, fleet and windows. */
export interface TenantFleet {
  sims: Simulator[];
  /** FLEETSCAN_CONFIG, the tokens and the rate limits, to add to `cliTestEnv`. */
  env: NodeJS.ProcessEnv;
  /** `fleetscan scan` of one tenant's devices of one class; returns the campaign id. */
  scan(tenant: number, klass: number, env: NodeJS.ProcessEnv): Promise<string>;
  /**
   * Nine campaigns: every tenant, every class, each `fleetscan scan` its own process; the tenants
   * side by side (three processes at once keep a loaded host within the timeouts).
   */
  scanAll(env: NodeJS.ProcessEnv): Promise<string[]>;
  /** Every device of every tenant got exactly one action, and no simulator answered 429. */
  expectExactlyOnce(): void;
  close(): Promise<void>;
}

/**
 * Starts the three tenants' simulators (5xx and lost replies at `faultRate` / `lostRate`) and
 * writes the tenants' configuration into `dir`; every tenant runs one campaign per class of
 * `perCampaign` devices.
 */
export async function startTenantFleet(input: {
  dir: string;
  perCampaign: number;
  faultRate: number;
  lostRate: number;
}): Promise<TenantFleet> {
  const { dir, perCampaign } = input;
  const sims: Simulator[] = [];
  const urls: string[] = [];
  for (const [i] of TENANTS.entries()) {
    const sim = await buildSimulator({
      fleet: perCampaign * PRIORITIES.length,
      seed: 21 + i,
      timeScale: TIME_SCALE,
      latencyMs: [1, 5],
      faultRate: input.faultRate,
      lostRate: input.lostRate,
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
      tenantId: `0000000${String(i + 1)}-0000-4000-8000-00000000e2e0`,
      clientId: `0000000${String(i + 1)}-0000-4000-8000-0000000a9900`,
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
    const sim = sims[i];
    if (!sim) continue;
    lines.push(
      `  - name: ${tenant.name}`,
      `    cloud: ${tenant.cloud}`,
      `    tenantId: ${sim.credentials.tenantId}`,
      `    clientId: ${sim.credentials.clientId}`,
      `    apiUrl: ${urls[i] ?? ''}`,
      `    accessTokenEnv: E2E_TOKEN_${String(i)}`,
    );
    tokens[`E2E_TOKEN_${String(i)}`] = sim.issueToken({ lifetimeSec: 3_600 });
  }
  writeFileSync(config, `${lines.join('\n')}\n`);

  const fleet: TenantFleet = {
    sims,
    env: { ...tokens, FLEETSCAN_CONFIG: config, FLEETSCAN_RATE_LIMITS: RATE_LIMITS },
    async scan(i, k, env) {
      const tenant = TENANTS[i];
      const priority = PRIORITIES[k];
      if (!tenant || !priority)
        throw new RangeError(`no tenant ${String(i)} or class ${String(k)}`);
      const ids = sims[i]?.machines.slice(k * perCampaign, (k + 1) * perCampaign) ?? [];
      const file = join(dir, `${tenant.name}-${priority}.txt`);
      writeFileSync(file, `${ids.map((m) => m.id).join('\n')}\n`);
      const args = ['scan', '--devices', file, '--comment', 'e2e tenants'];
      const scan = await runCli(
        [...args, '--tenant', tenant.name, '--priority', priority, '--json'],
        {
          env,
          timeoutMs: 300_000,
        },
      );
      expect(scan.code, scan.stderr).toBe(0);
      const out = JSON.parse(scan.stdout) as { campaignId: string };
      expect(out).toMatchObject({ tenant: tenant.name, priority, accepted: perCampaign });
      return out.campaignId;
    },
    async scanAll(env) {
      const perTenant = await Promise.all(
        TENANTS.map(async (_, i) => {
          const ids: string[] = [];
          for (const k of PRIORITIES.keys()) ids.push(await fleet.scan(i, k, env));
          return ids;
        }),
      );
      return perTenant.flat();
    },
    expectExactlyOnce() {
      // Ground truth: each tenant's own simulator created exactly one action per device.
      for (const [i, sim] of sims.entries()) {
        const created = new Map<string, number>();
        for (const call of sim.calls()) {
          if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
          created.set(call.machineId, (created.get(call.machineId) ?? 0) + 1);
        }
        const name = TENANTS[i]?.name ?? String(i);
        for (const m of sim.machines) expect(created.get(m.id), `${name} ${m.id}`).toBe(1);
        expect(sim.stats().throttled, name).toBe(0);
      }
    },
    async close() {
      for (const sim of sims) await sim.close();
    },
  };
  return fleet;
}

/** How many devices of `campaigns` are in `state`, from their counts hashes. */
export async function countIn(
  redis: Redis,
  prefix: string,
  campaigns: readonly string[],
  state: string,
): Promise<number> {
  const counts = await Promise.all(
    campaigns.map((id) => redis.hget(campaignKeys(prefix, id).counts, state)),
  );
  return counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
}

/** Polls `check` every 100 ms; on timeout the error shows `state()`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 300_000,
  state: () => Promise<unknown> = () => Promise.resolve(''),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await state())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
