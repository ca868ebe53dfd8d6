import { hostname } from 'node:os';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { campaignCreatedAt } from '../../src/campaigns/campaign-id.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { startCampaign, type ScanSource } from '../../src/control/start-campaign.js';
import {
  checkStoreIdentity,
  readStoreLoss,
  startStoreWatch,
  storeIdentityKeys,
} from '../../src/ops/store-identity.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { reconcileAfterStoreLoss, startRuntimeWorker } from '../../src/runtime/start-workers.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import type { ScanWorker } from '../../src/scan/start-scan-worker.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { cliTestEnv, ensureBuilt, runCli } from '../helpers/cli.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator, waitFinished } from './scan-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const prefix = uniquePrefix('storeloss');
  const sim = await startSimulator({
    fleet: 40,
    timeScale: 100,
    latencyMs: [1, 5],
    fleetMix: { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 },
  });
  cleanups.push(async () => {
    await sim.sim.app.close();
    await sim.sim.close();
  });
  const runtime = await buildRuntime(scanTestConfig(testRedisUrl(), prefix, sim), {
    role: 'test',
  });
  cleanups.push(async () => {
    await runtime.close();
    await cleanupPrefix(testRedisUrl(), prefix);
  });
  const workers: ScanWorker[] = [];
  cleanups.push(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });
  const ids = sim.sim.machines.map((m) => m.id);
  return {
    prefix,
    sim: sim.sim,
    runtime,
    ids,
    startWorker() {
      workers.push(startRuntimeWorker(runtime, { concurrency: 8, pollActionStatuses: false }));
    },
    /** What `fleetscan scan` does, with `--campaign-id` for a re-run. */
    scan: (campaignId?: string) =>
      startCampaign(
        { store: runtime.store, lanes: runtime.lanes },
        {
          source: listSource(ids),
          scanType: 'Quick',
          comment: 'store loss',
          createdBy: 'test',
          campaignId,
        },
      ),
  };
}

function listSource(ids: readonly string[]): ScanSource {
  return {
    description: 'test:list',
    chunks: (async function* () {
      await Promise.resolve();
      yield [...ids];
    })(),
    valid: () => ids.length,
    invalid: () => ({ count: 0, lines: [] }),
    skipped: () => ({}),
    takeHostnames: () => new Map(),
  };
}

/** Scan actions at the simulator per device (its own log: what reached the API). */
function scansPerDevice(sim: Simulator): Map<string, number> {
  const perDevice = new Map<string, number>();
  for (const call of sim.calls()) {
    if (call.family !== 'scan' || call.actionId === null || call.machineId === null) continue;
    perDevice.set(call.machineId, (perDevice.get(call.machineId) ?? 0) + 1);
  }
  return perDevice;
}

async function finishedOnce(t: Awaited<ReturnType<typeof setup>>, campaignId: string) {
  await waitFinished(t.runtime, campaignId);
  const scans = scansPerDevice(t.sim);
  for (const id of t.ids) expect(scans.get(id), id).toBe(1);
}

describe('Redis loss and re-runs (issue 9, defect 3)', () => {
  it('a re-run into a store that lost everything scans no device a second time', async () => {
    const t = await setup();
    t.startWorker();
    const first = await t.scan();
    const id = first.campaign.id;
    await finishedOnce(t, id);

    // Redis restarted empty: every key of the deployment is gone.
    await cleanupPrefix(testRedisUrl(), t.prefix);
    const listsBefore = t.sim.stats().byFamily.machineActions;
    const rerun = await t.scan(id);
    expect(rerun.accepted).toBe(t.ids.length);
    // The campaign's creation time comes back from its id: the lookup's lower bound.
    expect(rerun.campaign.createdAt).toBe(campaignCreatedAt(id));
    await finishedOnce(t, id);

    const campaign = await t.runtime.store.getCampaign(id);
    expect(campaign?.counts.requested).toBe(t.ids.length);
    expect(campaign?.reconcile).toBe(0);
    // One batched List MachineActions pass, not one lookup per device.
    expect(t.sim.stats().byFamily.machineActions - listsBefore).toBeLessThanOrEqual(2);
  });

  it('after a Redis restart that rolled records back, looks the actions up instead of calling again', async () => {
    const t = await setup();
    t.startWorker();
    const { campaign } = await t.scan();
    await finishedOnce(t, campaign.id);

    // An AOF rollback: the last devices' records are queued again, their "sent" markers gone,
    // and the campaign last saw another Redis server (run_id).
    const k = campaignKeys(t.prefix, campaign.id);
    const rolledBack = t.ids.slice(0, 10);
    const redis = t.runtime.redis;
    for (const machineId of rolledBack) await redis.hset(k.devices, machineId, '{"s":"q"}');
    await redis.hincrby(k.counts, 'requested', -rolledBack.length);
    await redis.hincrby(k.counts, 'queued', rolledBack.length);
    await redis.hset(k.campaign, 'state', 'running', 'run', 'a-previous-redis-server');
    await redis.hdel(k.campaign, 'finishedAt');
    await t.runtime.lanes.forTenant('default').push(
      { id: campaign.id, priority: 'normal', paused: false },
      rolledBack.map((machineId) => ({ machineId })),
    );

    await finishedOnce(t, campaign.id);
    for (const machineId of rolledBack) {
      const device = await t.runtime.store.getDevice(campaign.id, machineId);
      expect(device?.state).toBe('requested');
    }
  });

  it('a re-run of an intact campaign looks its actions up once and doubles nothing', async () => {
    const t = await setup();
    t.startWorker();
    const { campaign } = await t.scan();
    await finishedOnce(t, campaign.id);
    const again = await t.scan(campaign.id);
    expect(again.accepted).toBe(0);
    await finishedOnce(t, campaign.id);
  });
});

describe('reconcile after a store loss', () => {
  it("asks every live campaign's actions to be looked up again and audits it as the worker's decision", async () => {
    const t = await setup();
    const live = await t.scan();
    await reconcileAfterStoreLoss(t.runtime)();
    const entries = await createAuditLog(t.runtime.redis, t.prefix).list();
    expect(entries.map((e) => [e.action, e.target, e.who, e.source, e.outcome])).toEqual([
      [
        'campaign.reconcile',
        live.campaign.id,
        `worker:${hostname()}:${String(process.pid)}`,
        'worker',
        'ok',
      ],
    ]);
    expect(entries[0]?.detail).toBe(
      'Redis lost data: every action of the campaign is looked up again',
    );
  });
});

describe('store identity', () => {
  // The status check runs the built CLI; building may take minutes on a loaded machine.
  beforeAll(ensureBuilt, 300_000);

  it('says a vanished epoch in the worker log, status (exit 3) and the loss record', async () => {
    const prefix = uniquePrefix('storeid');
    cleanups.push(() => cleanupPrefix(testRedisUrl(), prefix));
    const runtime = await buildRuntime(
      scanTestConfig(testRedisUrl(), prefix, { sim: fakeSim(), url: 'http://127.0.0.1:9' }),
      { role: 'test' },
    );
    cleanups.push(() => runtime.close());
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const watch = startStoreWatch(runtime.redis, prefix, {
      create: true,
      intervalMs: 60_000,
      by: 'test:1',
      log,
    });
    cleanups.push(() => {
      watch.stop();
      return Promise.resolve();
    });
    await watch.check();
    expect(await runtime.redis.exists(storeIdentityKeys(prefix).epoch)).toBe(1);
    await expect(checkStoreIdentity(runtime.redis, prefix)).resolves.toMatchObject({ ok: true });

    // Redis restarted empty (or someone deleted the keys).
    await runtime.redis.del(storeIdentityKeys(prefix).epoch);
    await watch.check();
    await watch.check();
    expect(watch.lost()).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Redis lost data.*--campaign-id/);
    expect(await readStoreLoss(runtime.redis, prefix)).toMatchObject({ by: 'test:1' });

    const status = await runCli(['status'], { env: cliTestEnv(prefix) });
    expect(status.code).toBe(3);
    expect(status.stderr).toMatch(/Redis lost data.*--ack-store-loss/s);
    const ack = await runCli(['status', '--ack-store-loss'], { env: cliTestEnv(prefix) });
    expect(ack.code).toBe(0);
    expect((await runCli(['status'], { env: cliTestEnv(prefix) })).code).toBe(0);
  });
});

/** No API is called in the identity test; the config only needs a token to load. */
function fakeSim() {
  return { issueToken: () => 'x.y.z' } as unknown as Simulator;
}
