import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import { loadConfig } from '../../src/config/load.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import type { RoundResult } from '../../src/tracking/action-tracker.js';
import { createLifecycleStore } from '../../src/tracking/lifecycle-store.js';
import { createWebhookStore } from '../../src/webhooks/webhook-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { startCampaign, startSimulator, waitFinished } from './scan-fixture.js';
import { recordCampaign } from './tracking-fixture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const listCalls = (sim: Simulator) =>
  sim.calls().filter((c) => c.family === 'machineActions' && c.method === 'GET').length;

async function simulator(seed: number) {
  // 100x compressed: actions go Pending -> InProgress -> Succeeded within about 0.3 s.
  const started = await startSimulator({
    fleet: 40,
    seed,
    timeScale: 100,
    latencyMs: [1, 3],
    fleetMix: { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 },
  });
  cleanups.push(() => started.sim.close());
  return started;
}

describe('action tracking with several tenants', () => {
  it("settles every tenant's campaigns with its own client, one list call a round each, while a tenant with bad credentials fails alone", async () => {
    const prefix = uniquePrefix('tenant-track');
    cleanups.push(() => cleanupPrefix(testRedisUrl(), prefix));
    const contoso = await simulator(21);
    const fabrikam = await simulator(22);
    const locked = await simulator(23);
    const tenant = (name: string, url: string, tokenEnv: string) => ({
      name,
      tenantId: `tenant-${name}`,
      clientId: 'app-1',
      accessTokenEnv: tokenEnv,
      apiUrl: url,
    });
    // Listed tenants only (no MDE_* variables): no `default` tenant at all.
    const config = loadConfig({
      env: {
        CONTOSO_TOKEN: contoso.sim.issueToken({ lifetimeSec: 86_400 }),
        FABRIKAM_TOKEN: fabrikam.sim.issueToken({ lifetimeSec: 86_400 }),
        LOCKED_TOKEN: 'revoked-credentials',
      },
      overrides: {
        'redis.url': testRedisUrl(),
        'redis.prefix': prefix,
        'redis.budgetPrefix': prefix,
        'defender.requestTimeout': '2s',
        'limits.windows': '100/600ms,1500/36s',
        'limits.guard': '5ms',
        'limits.throttleDefault': '600ms',
        'scan.backoff': '50ms',
        // Rounds are run by hand below: the timer never fires during the test.
        'tracking.interval': '1h',
        'tracking.lockTtl': '5s',
        'log.level': 'silent',
        tenants: [
          tenant('contoso', contoso.url, 'CONTOSO_TOKEN'),
          tenant('fabrikam', fabrikam.url, 'FABRIKAM_TOKEN'),
          tenant('locked', locked.url, 'LOCKED_TOKEN'),
        ],
      },
    });
    const runtime: Runtime = await buildRuntime(config, { role: 'test' });
    cleanups.push(() => runtime.close());
    expect(runtime.tenants.names).toEqual(['contoso', 'fabrikam', 'locked']);
    const webhooks = createWebhookStore(runtime.redis, prefix);
    const { subscription } = await webhooks.subscribe({
      url: 'http://127.0.0.1:9/settled',
      events: ['campaign.settled'],
      tenant: null,
      campaignId: null,
      createdAt: Date.now() - 1_000,
      createdBy: 'test',
    });

    const worker = startRuntimeWorker(runtime, { concurrency: 8 });
    cleanups.push(() => worker.close());
    const campaigns = {
      contoso: await startCampaign(
        runtime,
        contoso.sim.machines.map((m) => m.id),
        'contoso weekly',
        { tenant: 'contoso' },
      ),
      fabrikam: await startCampaign(
        runtime,
        fabrikam.sim.machines.map((m) => m.id),
        'fabrikam weekly',
        { tenant: 'fabrikam' },
      ),
    };
    // The locked tenant's campaign has actions, but its credentials are refused.
    const lockedId = 'c-locked000001';
    const lockedActions = locked.sim.addActions(
      locked.sim.machines.slice(0, 10).map((m) => ({
        machineId: m.id,
        comment: `locked weekly [fleetscan:${lockedId}]`,
        createdMs: Date.now(),
        finishesAtMs: Date.now() + 1_000,
      })),
    );
    await recordCampaign(runtime.store, lockedId, Date.now(), lockedActions, new Set(), 'locked');
    await waitFinished(runtime, campaigns.contoso, 60_000);
    await waitFinished(runtime, campaigns.fabrikam, 60_000);

    const poller = worker.poller;
    if (!poller) throw new Error('the worker runs no tracker');
    const lifecycle = createLifecycleStore(runtime.redis, prefix);
    const settled = async () =>
      (await lifecycle.get(campaigns.contoso)).settledAt !== null &&
      (await lifecycle.get(campaigns.fabrikam)).settledAt !== null;
    const rounds: Map<string, RoundResult | null>[] = [];
    const perRound: { contoso: number; fabrikam: number }[] = [];
    const deadline = Date.now() + 60_000;
    while (!(await settled()) && Date.now() < deadline) {
      const before = { contoso: listCalls(contoso.sim), fabrikam: listCalls(fabrikam.sim) };
      rounds.push(await poller.runRound());
      perRound.push({
        contoso: listCalls(contoso.sim) - before.contoso,
        fabrikam: listCalls(fabrikam.sim) - before.fabrikam,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await settled()).toBe(true);

    // Each tenant's round listed its own tenant's actions only, within the per-round bound.
    expect(rounds.length).toBeGreaterThan(0);
    for (const [i, round] of rounds.entries()) {
      expect(round.get('locked')).toBeNull(); // 401: that round failed, the others went on
      for (const name of ['contoso', 'fabrikam'] as const) {
        const result = round.get(name);
        if (result === undefined) continue; // settled in an earlier round: no round any more
        expect(result).toMatchObject({ ran: true, campaigns: 1, fencedOut: false });
        expect(result?.listed).toBe(40);
        expect(perRound[i]?.[name]).toBeGreaterThan(0);
        expect(perRound[i]?.[name]).toBeLessThanOrEqual(11);
      }
    }
    expect(locked.sim.calls().some((c) => c.status === 401)).toBe(true);
    expect(await lifecycle.get(lockedId)).toMatchObject({ settledAt: null, lastTrackedAt: null });

    // Every device carries its own tenant's final status of its own action.
    for (const [name, started] of [
      ['contoso', contoso],
      ['fabrikam', fabrikam],
    ] as const) {
      const truth = new Map(started.sim.actions().map((a) => [a.id, a]));
      const devices: DeviceRecord[] = [];
      for await (const d of runtime.store.iterateDevices(campaigns[name])) devices.push(d);
      expect(devices).toHaveLength(40);
      for (const d of devices) {
        const action = truth.get(d.machineActionId ?? '');
        expect(action?.machineId, `${name} ${d.machineId}`).toBe(d.machineId);
        expect(d.actionStatus).toBe(action?.transitions.at(-1)?.status);
        expect(d.actionStatus).toBe('Succeeded');
      }
    }

    // A settled campaign leaves the rounds: the next one lists nothing for its tenant.
    const after = await poller.runRound();
    expect([...after.keys()]).toEqual(['locked']);

    // campaign.settled went out once for each tenant's campaign, naming the tenant.
    const deliveries = await webhooks.deliveries(subscription.id);
    const events = deliveries.map(
      (d) => JSON.parse(d.body) as { type: string; tenant: string; campaignId: string },
    );
    expect(
      events
        .map((e) => [e.type, e.tenant, e.campaignId])
        .sort((a, b) => a[1]!.localeCompare(b[1]!)),
    ).toEqual([
      ['campaign.settled', 'contoso', campaigns.contoso],
      ['campaign.settled', 'fabrikam', campaigns.fabrikam],
    ]);
  }, 120_000);
});
