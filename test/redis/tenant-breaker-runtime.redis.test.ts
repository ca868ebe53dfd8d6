import { afterEach, describe, expect, it } from 'vitest';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { hostname } from 'node:os';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { createLogger } from '../../src/shared/logger.js';
import { createWebhookStore } from '../../src/webhooks/webhook-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, FAST_PROBES } from './breaker-fixture.js';
import { scanTestConfig, startCampaign, startSimulator } from './scan-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('tenant breaker in a runtime worker', () => {
  it('logs one error line for the block (not one per device) and announces tenant.blocked', async () => {
    const prefix = uniquePrefix('breakerrt');
    let offsetMs = 0;
    const sim = await startSimulator({
      fleet: 40,
      timeScale: 100,
      latencyMs: [1, 3],
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0 },
      now: () => Date.now() + offsetMs,
    });
    cleanups.push(async () => {
      await sim.sim.app.close();
      await sim.sim.close();
    });
    const expired = sim.sim.issueToken({ lifetimeSec: 60 });
    offsetMs = 120_000;
    const config = scanTestConfig(testRedisUrl(), prefix, sim, {
      'defender.accessToken': expired,
      'log.level': 'warn',
      ...FAST_PROBES,
    });
    const lines: string[] = [];
    const log = createLogger({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const runtime = await buildRuntime(config, { role: 'test', log });
    cleanups.push(async () => {
      await runtime.close();
      await cleanupPrefix(testRedisUrl(), prefix);
    });
    const webhooks = createWebhookStore(runtime.redis, prefix);
    const { subscription } = await webhooks.subscribe({
      url: 'https://hooks.example.org/fleetscan',
      events: ['tenant.blocked', 'tenant.unblocked'],
      tenant: null,
      campaignId: null,
      createdAt: Date.now() - 1_000,
      createdBy: 'test',
    });
    await startCampaign(
      runtime,
      sim.sim.machines.map((m) => m.id),
      'expired token',
    );
    const worker = startRuntimeWorker(runtime, { concurrency: 8, pollActionStatuses: false });
    cleanups.push(() => worker.close());
    const lane = runtime.lanes.forTenant('default');
    await eventually(
      'two failed probes',
      async () => ((await lane.breaker.read())?.failures ?? 0) >= 2,
    );
    await eventually(
      'the webhook',
      async () => (await webhooks.deliveries(subscription.id)).length > 0,
    );

    const errors = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string })
      .filter((entry) => entry.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reason: 'token_expired' });
    expect(errors[0]?.msg).toMatch(
      /^tenant blocked \(token_expired\): MDE_ACCESS_TOKEN was rejected/,
    );
    const [delivery] = await webhooks.deliveries(subscription.id);
    expect(delivery?.type).toBe('tenant.blocked');
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: 'tenant.blocked',
      tenant: 'default',
      campaignId: null,
      data: { tenant: 'default', reason: 'token_expired' },
    });
    const audited = await createAuditLog(runtime.redis, prefix).list();
    expect(audited.map((e) => [e.action, e.target, e.who, e.source, e.outcome])).toEqual([
      ['tenant.block', 'default', `worker:${hostname()}:${String(process.pid)}`, 'worker', 'ok'],
    ]);
    expect(audited[0]?.detail).toMatch(/^breaker: token_expired \(.*\); next probe \d{4}-/);
  }, 60_000);
});
