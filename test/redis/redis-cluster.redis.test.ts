import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignMeta } from '../../src/campaigns/campaign.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { LUA_SCRIPTS, luaScript } from '../../src/lua/lua-scripts.js';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { budgetKeys } from '../../src/limiter/budget-keys.js';
import { createScanLimiter } from '../../src/limiter/scan-limiter.js';
import { laneKeys, wakeChannel } from '../../src/lanes/lane-keys.js';
import { startHeartbeat, listWorkers } from '../../src/ops/worker-presence.js';
import {
  clearStoreLoss,
  ensureStoreEpoch,
  readStoreLoss,
  recordStoreLoss,
} from '../../src/ops/store-identity.js';
import { deleteCampaignKeys } from '../../src/retention/delete-campaign-keys.js';
import { createRetentionLock } from '../../src/retention/retention-lock.js';
import { createBudgetBreaker } from '../../src/lanes/budget-breaker.js';
import { createFiringLock } from '../../src/schedules/firing-lock.js';
import { createScheduleStore } from '../../src/schedules/schedule-store.js';
import { createLifecycleStore, lifecycleKey } from '../../src/tracking/lifecycle-store.js';
import { createFencedLock, trackerLockKey } from '../../src/tracking/tracker-lock.js';
import { createRedis, duplicateRedis, type Redis } from '../../src/shared/redis.js';
import { scanKeys } from '../../src/shared/scan-keys.js';
import { createWebhookStore } from '../../src/webhooks/webhook-store.js';
import {
  bullmqPrefix,
  createWebhookQueue,
  kickDrains,
  WEBHOOK_QUEUE_NAME,
  type DrainJobData,
} from '../../src/webhooks/webhook-queue.js';
import { startLocalCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis.js';
import { spec } from './schedule-fixture.js';
import { testLanes } from './lane-fixture.js';

const requeueScript = luaScript('requeue-failed-3');
const hexId = (n: number) => n.toString(16).padStart(40, '0');
const meta = (id: string, tenant = 'default'): CampaignMeta => ({
  id,
  name: 'cluster',
  scanType: 'Quick',
  comment: 'cluster test',
  createdAt: Date.now(),
  createdBy: 'test',
  source: 'file:devices.txt',
  tenant,
  priority: 'normal',
  window: null,
  schedule: null,
});

let cluster: LocalCluster;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  cluster = await startLocalCluster();
  redis = createRedis(cluster.url, { connectionName: 'fleetscan-cluster-test' });
  prefix = uniquePrefix('cluster');
}, 120_000);
afterAll(async () => {
  redis.disconnect();
  await cluster.stop();
});

const slotOf = async (key: string) =>
  Number(
    await cluster.node(Number(cluster.nodes[0]?.split(':')[1])).call('CLUSTER', 'KEYSLOT', key),
  );

describe('Redis Cluster: keys and slots', () => {
  it('keeps each campaign in one slot and spreads campaigns and tenants over many', async () => {
    const campaignSlots = new Set<number>();
    for (let i = 0; i < 12; i += 1) {
      const keys = campaignKeys(prefix, newCampaignId(Date.now() + i * 1_000));
      const slots = new Set(
        await Promise.all([keys.campaign, keys.devices, keys.counts, keys.hostnames].map(slotOf)),
      );
      expect(slots.size).toBe(1);
      campaignSlots.add([...slots][0] ?? -1);
    }
    expect(campaignSlots.size).toBeGreaterThanOrEqual(10);

    const tenantSlots = new Set<number>();
    for (const tenant of ['contoso', 'fabrikam', 'northwind', 'litware', 'tailspin']) {
      const budget = budgetKeys(prefix, `commercial:${tenant}:app`, 'scan', [
        { cap: 100, windowMs: 60_000 },
      ]);
      const lane = laneKeys(prefix, budget.tag);
      const slots = new Set(
        await Promise.all(
          [budget.pause, budget.inflight, ...budget.windows, lane.campaigns, lane.due]
            .concat([`${lane.readyPrefix}c-000000000000`, lane.breaker])
            .map(slotOf),
        ),
      );
      expect(slots.size, tenant).toBe(1);
      tenantSlots.add([...slots][0] ?? -1);
    }
    expect(tenantSlots.size).toBe(5);
  });
});

describe('Redis Cluster: every script and multi-key step runs without CROSSSLOT', () => {
  it('runs a campaign through the store: create, add, send, request, fail, retry, cancel', async () => {
    const store = createCampaignStore(redis, prefix);
    const ids = [newCampaignId(), newCampaignId(Date.now() + 5_000)];
    for (const id of ids) {
      await store.createCampaign(meta(id));
      await store.openIntake(id);
      expect(await store.addDevices(id, [hexId(1), hexId(2), hexId(3)])).toBe(3);
      await store.closeIntake(id);
      await store.markSent(id, hexId(1), Date.now());
      await store.markRequested(
        id,
        hexId(1),
        { id: `act-${id}`, status: 'Pending', creationDateTimeUtc: new Date().toISOString() },
        { joinedExisting: false, at: Date.now() },
      );
      await store.markFailed(id, hexId(2), 'test');
      const keys = campaignKeys(prefix, id);
      await requeueScript.run(redis, [keys.campaign, keys.devices, keys.counts], [hexId(2)]);
      await store.updateActionStatuses(id, [
        { machineId: hexId(1), id: `act-${id}`, status: 'Succeeded' },
      ]);
      await store.setHostnames(id, new Map([[hexId(1), 'host-1']]));
      expect(await store.createForReconcile(meta(id))).toBe(false);
      await store.setCampaignState(id, 'cancelled');
      expect(await store.cancelWaitingDevices(id, [hexId(3)])).toEqual([hexId(3)]);
      expect(await store.cancelAllWaiting(id)).toBe(1);
      await createLifecycleStore(redis, prefix).recordCancelResults(id, [
        { machineId: hexId(1), result: 'cancelled' },
      ]);
      expect(await store.finishReconcile(id, 1)).toBe(true);
    }
    expect((await store.listCampaigns()).map((c) => c.id).sort()).toEqual([...ids].sort());
    const device = await store.getDevice(ids[0] ?? '', hexId(1));
    expect(device).toMatchObject({ state: 'requested', actionStatus: 'Succeeded' });
  });

  it('fences the tracker per campaign although its lock lives in another slot', async () => {
    const store = createCampaignStore(redis, prefix);
    const id = newCampaignId(Date.now() + 9_000);
    await store.createCampaign(meta(id));
    await store.addDevices(id, [hexId(7)]);
    await store.markSent(id, hexId(7), Date.now());
    await store.markRequested(
      id,
      hexId(7),
      { id: 'act-7', status: 'Pending', creationDateTimeUtc: new Date().toISOString() },
      { joinedExisting: false, at: Date.now() },
    );
    const lifecycle = createLifecycleStore(redis, prefix);
    const key = trackerLockKey(prefix, 'default');
    const first = createFencedLock(redis, key, 200);
    const held = await first.acquire();
    expect(held).not.toBeNull();
    const lock = { key, value: held ?? '' };
    const update = { machineId: hexId(7), actionId: 'act-7', status: 'InProgress', updatedAt: '' };
    expect(await lifecycle.writeStatuses(id, [update], lock)).toBe(1);
    await lifecycle.writeMeta(id, { lastTrackedAt: 1 }, lock);
    // The lock expires; a successor takes it and writes: the stalled first holder is fenced out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = createFencedLock(redis, key, 10_000);
    const next = { key, value: (await second.acquire()) ?? '' };
    expect(await lifecycle.writeStatuses(id, [{ ...update, status: 'Succeeded' }], next)).toBe(1);
    await expect(lifecycle.writeStatuses(id, [update], lock)).rejects.toThrow('lost');
    expect((await store.getDevice(id, hexId(7)))?.actionStatus).toBe('Succeeded');
    expect(await slotOf(lifecycleKey(prefix, id))).toBe(
      await slotOf(campaignKeys(prefix, id).devices),
    );
  });

  it('dispatches, finishes, pauses and drops on a budget lane with an adaptive limiter', async () => {
    const { lanes, limiters } = testLanes(redis, prefix, {
      tenants: ['contoso', 'fabrikam'],
      adaptive: {
        min: { cap: 2, windowMs: 1_000 },
        holdMs: 500,
        holdMaxMs: 4_000,
        increaseEveryMs: 100,
        probeInflight: 100,
      },
    });
    for (const tenant of ['contoso', 'fabrikam']) {
      const lane = lanes.forTenant(tenant);
      const id = newCampaignId();
      await lane.push(
        { id, priority: 'urgent', paused: false },
        [1, 2, 3].map((n) => ({ machineId: hexId(n) })),
      );
      const first = await lane.dispatch();
      expect(first.grant?.campaignId).toBe(id);
      await first.grant?.permit.settle();
      await limiters.get(tenant)?.observe('scan', first.grant!.permit, 429);
      expect(await lane.finish(id, first.grant?.machineId ?? '', { kind: 'done' })).toBe(true);
      await lane.setCampaign(id, 'pause');
      await lane.setCampaign(id, 'run', 'background');
      const second = await lane.dispatch();
      if (second.grant) {
        await second.grant.permit.release();
        await lane.renew([`${id}.${second.grant.machineId}`]);
        await lane.finish(id, second.grant.machineId, { kind: 'due', at: 1, attempt: true });
      }
      await lane.setCampaign(id, 'drop');
      const limiter = limiters.get(tenant);
      const permit = await limiter?.acquire('machineActions');
      await permit?.settle();
      await limiter?.throttle('machineActions', 1);
      await limiters.get(tenant)?.usage();
      await limiters.get(tenant)?.adaptiveState();
      expect((await lane.stats()).campaigns.urgent).toBe(0);
    }
  });

  it('wakes a cluster subscriber when devices are pushed (PUBLISH in a script reaches every node)', async () => {
    const subscriber = duplicateRedis(redis, 'fleetscan-cluster-wake');
    try {
      const woken: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => woken.push(message));
      await subscriber.subscribe(wakeChannel(prefix));
      const lane = testLanes(redis, prefix, { tenants: ['northwind'] }).lanes.forTenant(
        'northwind',
      );
      await lane.push({ id: newCampaignId(), priority: 'normal', paused: false }, [
        { machineId: hexId(9) },
      ]);
      const deadline = Date.now() + 10_000;
      while (woken.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(woken).toContain(budgetKeys(prefix, 'commercial:northwind:app', 'scan', []).tag);
    } finally {
      subscriber.disconnect();
    }
  });

  it('fires schedules under their one tag: put, lock, advance, complete, history, remove', async () => {
    const schedules = createScheduleStore(redis, prefix);
    const lock = createFiringLock(redis, prefix, 5_000);
    expect(await schedules.put(spec({ name: 'nightly', all: true }), 1_000)).toBe('created');
    const token = await lock.hold();
    expect(token).not.toBeNull();
    const version = (await schedules.get('nightly'))?.state.version ?? 0;
    const record = {
      planned: 1,
      actual: 2,
      outcome: 'skipped-overlap' as const,
      reason: 'test',
      campaignId: null,
      counts: null,
      manual: false,
    };
    expect(
      await schedules.advance('nightly', { token: token ?? '', version }, { cursor: '5' }, [
        record,
      ]),
    ).toBe('done');
    await schedules.appendHistory('nightly', record);
    await schedules.recordRun('nightly', newCampaignId());
    await schedules.setPaused('nightly', true, 'maintenance', 3_000);
    expect((await schedules.history('nightly')).length).toBe(2);
    expect((await schedules.fireCounts())['skipped-overlap']).toBe(2);
    await lock.release();
    expect(await schedules.remove('nightly')).toBe(true);
    expect(
      await schedules.completeFire(
        'nightly',
        { planned: 1, actual: 1, campaignId: 'c-000000000000' },
        record,
      ),
    ).toBe(false);
  });

  it('keeps store identity, worker presence and webhooks across slots', async () => {
    await ensureStoreEpoch(redis, prefix);
    await recordStoreLoss(redis, prefix, {
      reason: 'test',
      detectedAt: 1,
      by: 'test',
      previousEpoch: null,
      campaigns: ['c-000000000001'],
    });
    expect((await readStoreLoss(redis, prefix))?.campaigns).toEqual(['c-000000000001']);
    expect(await clearStoreLoss(redis, prefix)).toBe(true);

    const beat = startHeartbeat(
      redis,
      prefix,
      { host: 'h', pid: 1, concurrency: 1, tenants: ['default'], startedAt: 0 },
      { intervalMs: 60_000 },
    );
    await beat.ready;
    expect((await listWorkers(redis, prefix, { intervalMs: 60_000 })).length).toBe(1);
    await beat.stop();

    const webhooks = createWebhookStore(redis, prefix);
    const { subscription } = await webhooks.subscribe({
      url: 'http://127.0.0.1:9/hook',
      events: ['campaign.finished'],
      tenant: null,
      campaignId: null,
      createdAt: 0,
      createdBy: 'test',
    });
    const event = {
      id: 'e1',
      type: 'campaign.finished' as const,
      occurredAt: 1,
      tenant: 'default',
      campaignId: 'c-000000000001',
      data: {},
    };
    expect(await webhooks.emit(event)).toEqual([subscription.id]);
    const head = await webhooks.head(subscription.id);
    expect(head?.state).toBe('pending');
    await webhooks.recordAttempt(
      head!,
      { at: 2, status: 200, error: null, durationMs: 1 },
      'delivered',
    );
    expect(await webhooks.head(subscription.id)).toBeNull();
  });

  it('removes a campaign by walking every master, and finds the others on every master', async () => {
    const sub = `${prefix}-walk`;
    const store = createCampaignStore(redis, sub);
    // One campaign on each master (ids picked by the slot their tag hashes to), plus one to remove.
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < 3 && i < 1_000; i += 1) {
      const id = newCampaignId(Date.now() + i * 7_919);
      const master = await cluster.masterOf(campaignKeys(sub, id).campaign);
      if (!byMaster.has(master)) byMaster.set(master, id);
    }
    expect(byMaster.size).toBe(3);
    const gone = newCampaignId(Date.now() - 1_000);
    for (const id of [gone, ...byMaster.values()]) {
      await store.createCampaign(meta(id));
      await store.addDevices(id, [hexId(1)]);
      await redis.hset(lifecycleKey(sub, id), 'settledAt', '1');
    }
    expect(await deleteCampaignKeys({ redis, prefix: sub, campaignId: gone, batch: 100 })).toBe(1);
    const left: string[] = [];
    await scanKeys(redis, `${sub}:campaign:*`, 100, (keys) => {
      left.push(...keys);
      return Promise.resolve();
    });
    expect(left.filter((key) => key.includes(gone))).toEqual([]);
    for (const id of byMaster.values()) {
      expect(left.filter((key) => key.includes(id)).length, id).toBe(4);
    }
  });

  it('trips, probes and clears a budget breaker; renews the tracker lock; holds the retention lock', async () => {
    const tag = budgetKeys(prefix, 'commercial:breaker:app', 'scan', []).tag;
    const breaker = createBudgetBreaker({
      redis,
      key: laneKeys(prefix, tag).breaker,
      channel: wakeChannel(prefix),
      tag,
      nowArg: () => '',
      settings: { probeMinMs: 5_000, probeMaxMs: 60_000 },
    });
    const fault = { reason: 'credentials_rejected' as const, message: 'secret rotated' };
    expect((await breaker.trip(fault, false)).kind).toBe('blocked');
    await breaker.release();
    expect((await breaker.read())?.probeAt).toBeLessThanOrEqual(Date.now() + 1_000);
    expect((await breaker.clear()).kind).toBe('unblocked');
    // A look-up of another family (another slot) asks the lane's breaker beside acquire-n, takes
    // the due probe, and its accepted reply clears the block.
    const limiter = createScanLimiter({
      redis,
      prefix,
      budgetId: 'commercial:breaker:app',
      windows: [{ cap: 100, windowMs: 60_000 }],
      guardMs: 0,
      throttleDefaultMs: 1_000,
      breaker: { key: laneKeys(prefix, tag).breaker, channel: wakeChannel(prefix), tag },
    });
    await breaker.trip(fault, false);
    expect((await limiter.tryAcquire('machineActions')).waitMs).toBeGreaterThan(1_000);
    await breaker.release();
    const probe = await limiter.tryAcquire('machineActions');
    expect(probe.permit).toBeDefined();
    await probe.permit?.settle();
    if (probe.permit) await limiter.observe('machineActions', probe.permit, 200);
    expect(await breaker.read()).toBeNull();

    const store = createCampaignStore(redis, prefix);
    const id = newCampaignId(Date.now() + 11_000);
    await store.createCampaign(meta(id));
    expect(await store.setPriority(id, 'urgent')).toBe(true);

    const tracker = createFencedLock(redis, trackerLockKey(prefix, 'renewing'), 5_000);
    const value = (await tracker.acquire()) ?? '';
    expect(await tracker.renew(value)).toBe(true);
    await tracker.release(value);

    const retention = createRetentionLock(redis, `${prefix}:lock:retention`, 5_000);
    const other = createRetentionLock(redis, `${prefix}:lock:retention`, 5_000);
    expect(await retention.take()).toBe(true);
    expect(await other.take()).toBe(false);
    await retention.drop();
    expect(await other.take()).toBe(true);
    await other.drop();
  });

  it('runs the BullMQ webhook queue under a hash-tagged prefix', async () => {
    const connection = createRedis(cluster.url, { forBullmq: true });
    const queuePrefix = bullmqPrefix(prefix, true);
    const queue = createWebhookQueue(connection, queuePrefix);
    const seen: string[] = [];
    const worker = new Worker<DrainJobData>(
      WEBHOOK_QUEUE_NAME,
      (job) => {
        seen.push(job.data.subscriptionId);
        return Promise.resolve();
      },
      { connection, prefix: queuePrefix },
    );
    try {
      await kickDrains(queue, ['s-1', 's-2']);
      const deadline = Date.now() + 20_000;
      while (seen.length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen.sort()).toEqual(['s-1', 's-2']);
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
    }
  });

  // Last: every Lua script (src/lua/) was run above, so its SHA is cached on the master it ran on.
  it('ran every Lua script of src/lua/ on the cluster', async () => {
    // Every script is a file of src/lua/ (lua-scripts.test.ts checks the list against the folder).
    const files = [...LUA_SCRIPTS];
    expect(files.length).toBeGreaterThanOrEqual(20);
    const masters = await Promise.all(
      cluster.nodes.map(async (address) => {
        const node = cluster.node(Number(address.split(':')[1]));
        return (await node.call('ROLE')) as [string];
      }),
    );
    const masterNodes = cluster.nodes
      .filter((_, i) => masters[i]?.[0] === 'master')
      .map((address) => cluster.node(Number(address.split(':')[1])));
    const notRun: string[] = [];
    for (const file of files) {
      const { sha } = luaScript(file).source();
      const found = await Promise.all(
        masterNodes.map(
          async (node) => ((await node.call('SCRIPT', 'EXISTS', sha)) as number[])[0],
        ),
      );
      if (!found.includes(1)) notRun.push(file);
    }
    expect(notRun).toEqual([]);
  });
});
