import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import type { Lanes } from '../../src/lanes/lanes.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { testLanes } from './lane-fixture.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');

async function* chunks(ids: string[], size = 500): AsyncIterable<string[]> {
  for (let i = 0; i < ids.length; i += size) {
    await Promise.resolve();
    yield ids.slice(i, i + size);
  }
}

let redis: Redis;
let prefix: string;
let store: RedisCampaignStore;
let lanes: Lanes;
let campaignId: string;

beforeEach(async () => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('enqueue');
  store = createCampaignStore(redis, prefix);
  ({ lanes } = testLanes(redis, prefix));
  campaignId = newCampaignId();
  await store.createCampaign({
    id: campaignId,
    name: 'n',
    scanType: 'Quick',
    comment: `c [fleetscan:${campaignId}]`,
    createdAt: Date.now(),
    createdBy: 'test',
    source: 'test',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

/**
 * The intake a `scan` left open when it died a lease ago (its lease ended; nothing renews it):
 * the next open or close of an intake drops it.
 */
const crashedIntake = () =>
  redis.hset(campaignKeys(prefix, campaignId).campaign, 'intake:crashed', '1', 'open', '1');

/** Devices ready in the campaign's line. */
const readyCount = () => redis.zcard(lanes.forTenant('default').keys.readyPrefix + campaignId);

describe('enqueueDevices', () => {
  it('records every device and puts each one in its budget line once, in order', async () => {
    const ids = [hexId(1), hexId(2), hexId(1), hexId(3)];
    const result = await enqueueDevices({
      lanes,
      store,
      campaign: campaignId,
      ids: chunks(ids, 2),
    });
    expect(result).toMatchObject({ accepted: 3, duplicate: 1 });
    const lane = lanes.forTenant('default');
    expect(await redis.zrange(lane.keys.readyPrefix + campaignId, 0, -1)).toEqual([
      hexId(1),
      hexId(2),
      hexId(3),
    ]);
    expect(await redis.zrange(lane.keys.roundRobin[1], 0, -1)).toEqual([campaignId]);
    const campaign = await store.getCampaign(campaignId);
    expect(campaign).toMatchObject({ total: 3, intakeOpen: false, state: 'running' });
  });

  it('neither doubles nor loses a device when the same command runs twice', async () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => hexId(i));
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    const again = await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    expect(again).toMatchObject({ accepted: 0, duplicate: 1_200 });
    expect(await readyCount()).toBe(1_200);
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(1_200);
  });

  it('puts in line on a re-run the devices recorded before a crash that came before the push', async () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => hexId(i));
    // The crash: the first chunk reached the store, then the process died before the push.
    await crashedIntake();
    await store.addDevices(campaignId, ids.slice(0, 500));
    expect(await readyCount()).toBe(0);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(true);

    const rerun = await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun).toMatchObject({ accepted: 500, duplicate: 500 });
    expect(await readyCount()).toBe(1_000);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(false);
  });

  it('finishes the intake on a re-run after a crash that came after the push', async () => {
    const ids = [hexId(1), hexId(2)];
    await crashedIntake();
    await store.addDevices(campaignId, ids);
    await lanes.forTenant('default').push(
      { id: campaignId, priority: 'normal', paused: false },
      ids.map((machineId) => ({ machineId })),
    );
    const rerun = await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun).toMatchObject({ accepted: 0, duplicate: 2 });
    expect(await readyCount()).toBe(2);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(false);
  });

  it('counts intakes: of two concurrent scans, the first to end does not finish the campaign', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slowSource(): AsyncIterable<string[]> {
      yield await Promise.resolve([hexId(1), hexId(2)]);
      await gate; // still reading its source while the other scan ends
      yield [hexId(3)];
    }
    const first = enqueueDevices({ lanes, store, campaign: campaignId, ids: slowSource() });
    await expect.poll(async () => (await store.getCampaign(campaignId))?.total).toBe(2);
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks([hexId(4)]) });
    // Every device so far ends: nothing waits, but the first scan still holds its intake.
    for (const id of [hexId(1), hexId(2), hexId(4)]) await store.markFailed(campaignId, id, 'x');
    expect(await store.getCampaign(campaignId)).toMatchObject({
      state: 'running',
      intakeOpen: true,
    });
    release();
    expect(await first).toMatchObject({ accepted: 3 });
    expect(await store.getCampaign(campaignId)).toMatchObject({
      state: 'running',
      intakeOpen: false,
      counts: { queued: 1, failed: 3 },
    });
    await store.markFailed(campaignId, hexId(3), 'x');
    expect((await store.getCampaign(campaignId))?.state).toBe('finished');
  });

  it('keeps the intake of a scan that died within its lease, and lets the campaign finish once it ended', async () => {
    const key = campaignKeys(prefix, campaignId).campaign;
    // Died a moment ago: its lease still runs.
    await redis.hset(key, 'intake:crashed', String(Date.now() + 60_000), 'open', '1');
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks([hexId(1)]) });
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(true);
    await redis.hset(key, 'intake:crashed', '1'); // the lease is over
    await store.markFailed(campaignId, hexId(1), 'x');
    expect(await store.getCampaign(campaignId)).toMatchObject({
      state: 'finished',
      intakeOpen: false,
    });
  });

  it('puts no recorded device back in line, nor a waiting one in line twice', async () => {
    const ids = [hexId(1), hexId(2)];
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    // Device 1 was dispatched and recorded; device 2 still waits.
    const lane = lanes.forTenant('default');
    await redis.zrem(lane.keys.readyPrefix + campaignId, hexId(1));
    await store.markRequested(
      campaignId,
      hexId(1),
      { id: 'a1', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: 1 },
    );
    const rerun = await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun.devicesQueued).toBe(0);
    expect(await readyCount()).toBe(1);
  });

  it('keeps the devices of a paused campaign in line but out of the round-robin', async () => {
    await store.openIntake(campaignId);
    await store.changeCampaignState(campaignId, 'paused');
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks([hexId(1)]) });
    expect(await readyCount()).toBe(1);
    expect(await redis.zcard(lanes.forTenant('default').keys.roundRobin[1])).toBe(0);
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(1);
  });

  it('keeps Redis within 1 KB per waiting device (campaign store + lane)', async () => {
    const n = 10_000;
    const ids = Array.from({ length: n }, (_, i) => hexId(i * 7919));
    await enqueueDevices({ lanes, store, campaign: campaignId, ids: chunks(ids) });
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      for (const key of keys)
        bytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    } while (cursor !== '0');
    const perDevice = bytes / n;
    console.log(
      `Redis bytes per waiting device: ${perDevice.toFixed(0)} (${bytes} bytes for ${n})`,
    );
    expect(perDevice).toBeLessThanOrEqual(1_024);
  });
});
