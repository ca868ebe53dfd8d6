import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignControl, type CampaignControl } from '../../src/control/campaign-control.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { UnknownCampaignError } from '../../src/campaigns/errors.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import type { BudgetLane } from '../../src/lanes/budget-lane.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { testLanes } from './lane-fixture.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');
const ids = Array.from({ length: 30 }, (_, i) => hexId(i));
const NOW = 1_800_000_000_000;

let redis: Redis;
let prefix: string;
let store: RedisCampaignStore;
let lanes: Lanes;
let lane: BudgetLane;
let control: CampaignControl;
let campaignId: string;

beforeEach(async () => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('control');
  store = createCampaignStore(redis, prefix);
  ({ lanes } = testLanes(redis, prefix));
  lane = lanes.forTenant('default');
  control = createCampaignControl({
    store,
    lanes,
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
  });
  campaignId = newCampaignId();
  await store.createCampaign({
    id: campaignId,
    name: 'n',
    scanType: 'Quick',
    comment: `c [fleetscan:${campaignId}]`,
    createdAt: NOW,
    createdBy: 'test',
    source: 'test',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  await enqueueDevices({
    lanes,
    store,
    campaign: campaignId,
    ids: (async function* () {
      yield await Promise.resolve(ids);
    })(),
  });
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

/** Where the campaign's devices are in its budget's line, and whether dispatch may pick it. */
const line = async () => ({
  ready: await redis.zcard(lane.keys.readyPrefix + campaignId),
  due: await redis.zcard(lane.keys.due),
  inRoundRobin: (await redis.zscore(lane.keys.roundRobin[1], campaignId)) !== null,
});

describe('campaign control', () => {
  it('pauses by taking the campaign out of the round-robin, its devices keeping their place', async () => {
    const result = await control.pause(campaignId);
    expect(result).toMatchObject({
      previous: 'running',
      state: 'paused',
      devicesWithdrawn: 30,
      jobsRemoved: 30, // the BullMQ-era name, still in JSON output
    });
    expect(await line()).toEqual({ ready: 30, due: 0, inRoundRobin: false });
    expect((await lane.dispatch()).waitMs).toBe(-1);
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(30);
  });

  it('resumes with every waiting device in line once, deferred ones due at their time', async () => {
    await store.markDeferred(campaignId, hexId(0), { until: NOW + 60_000, at: NOW });
    await redis.zrem(lane.keys.readyPrefix + campaignId, hexId(0)); // as after a busy answer
    await store.markRequested(
      campaignId,
      hexId(1),
      { id: 'a', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: NOW },
    );
    await redis.zrem(lane.keys.readyPrefix + campaignId, hexId(1));
    await control.pause(campaignId);
    const result = await control.resume(campaignId);
    expect(result).toMatchObject({
      previous: 'paused',
      state: 'running',
      devicesQueued: 29,
      jobsSubmitted: 29,
    });
    expect(await line()).toEqual({ ready: 28, due: 1, inRoundRobin: true });
    expect(await redis.zscore(lane.keys.due, `${campaignId}.${hexId(0)}`)).toBe(
      String(NOW + 60_000),
    );
    // A second resume (after a crash, or by habit) adds nothing twice.
    await control.resume(campaignId);
    expect(await line()).toEqual({ ready: 28, due: 1, inRoundRobin: true });
  });

  it('cancels waiting devices, drops their line, and leaves recorded ones alone', async () => {
    await store.markRequested(
      campaignId,
      hexId(2),
      { id: 'b', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: NOW },
    );
    const result = await control.cancel(campaignId);
    expect(result).toMatchObject({
      state: 'cancelled',
      devicesCancelled: 29,
      devicesWithdrawn: 29,
    });
    expect(await line()).toEqual({ ready: 0, due: 0, inRoundRobin: false });
    const campaign = await store.getCampaign(campaignId);
    expect(campaign?.counts).toMatchObject({ queued: 0, cancelled: 29, requested: 1 });
    expect((await control.resume(campaignId)).state).toBe('cancelled');
    expect(await line()).toEqual({ ready: 0, due: 0, inRoundRobin: false });
  });

  it('cancels a few thousand devices page by page, each waiting one exactly once', async () => {
    const many = Array.from({ length: 3_000 }, (_, i) => hexId(1_000 + i));
    await enqueueDevices({
      lanes,
      store,
      campaign: campaignId,
      ids: (async function* () {
        yield await Promise.resolve(many);
      })(),
    });
    // Some devices are no longer waiting: recorded, failed, or deferred (deferred ones wait).
    for (const id of many.slice(0, 100)) await store.markFailed(campaignId, id, 'x');
    for (const id of many.slice(100, 150))
      await store.markRequested(
        campaignId,
        id,
        { id: `a-${id}`, status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
        { joinedExisting: false, at: NOW },
      );
    for (const id of many.slice(150, 400))
      await store.markDeferred(campaignId, id, { until: NOW + 60_000, at: NOW });
    const result = await control.cancel(campaignId);
    const waiting = ids.length + many.length - 150;
    expect(result).toMatchObject({ devicesCancelled: waiting, devicesWithdrawn: waiting });
    const campaign = await store.getCampaign(campaignId);
    expect(campaign?.counts).toMatchObject({
      queued: 0,
      deferred: 0,
      cancelled: waiting,
      failed: 100,
      requested: 50,
    });
    const states = new Map<string, number>();
    for await (const device of store.iterateDevices(campaignId))
      states.set(device.state, (states.get(device.state) ?? 0) + 1);
    expect(Object.fromEntries(states)).toEqual({ cancelled: waiting, failed: 100, requested: 50 });
    expect((await store.getDevice(campaignId, many[200] ?? ''))?.deferredUntil ?? null).toBeNull();
    // A second sweep finds nothing left and counts nothing twice.
    expect((await control.cancel(campaignId)).devicesCancelled).toBe(0);
    expect((await store.getCampaign(campaignId))?.counts.cancelled).toBe(waiting);
  });

  it('moves a campaign to another class, keeping its devices in order', async () => {
    expect(await control.setPriority(campaignId, 'urgent')).toEqual({
      previous: 'normal',
      priority: 'urgent',
    });
    expect(await redis.zscore(lane.keys.roundRobin[0], campaignId)).not.toBeNull();
    expect(await redis.zscore(lane.keys.roundRobin[1], campaignId)).toBeNull();
    expect((await store.getCampaign(campaignId))?.priority).toBe('urgent');
    const first = await lane.dispatch();
    expect(first.grant?.machineId).toBe(hexId(0));
  });

  it('leaves a finished campaign as it is', async () => {
    for (const id of ids) await store.markFailed(campaignId, id, 'x');
    const result = await control.cancel(campaignId);
    expect(result).toMatchObject({ previous: 'finished', state: 'finished', devicesCancelled: 0 });
  });

  it('rejects an unknown campaign', async () => {
    await expect(control.pause('c-000000000000')).rejects.toBeInstanceOf(UnknownCampaignError);
    await expect(control.resume('c-000000000000')).rejects.toBeInstanceOf(UnknownCampaignError);
  });
});
