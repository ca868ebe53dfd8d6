import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCampaignControl,
  type CampaignControl,
} from '../../src/campaigns/campaign-control.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { UnknownCampaignError } from '../../src/campaigns/errors.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import type { Config } from '../../src/config/schema.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { createScanQueue, type ScanQueue } from '../../src/scan/scan-queue.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const hexId = (i: number) => i.toString(16).padStart(40, '0');
const ids = Array.from({ length: 30 }, (_, i) => hexId(i));
const NOW = 1_800_000_000_000;

let redis: Redis;
let prefix: string;
let store: RedisCampaignStore;
let queue: ScanQueue;
let control: CampaignControl;
let campaignId: string;

beforeEach(async () => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('control');
  const config = { redis: { prefix }, scan: { attempts: 3, backoff: 1_000 } } as unknown as Config;
  store = createCampaignStore(redis, prefix);
  queue = createScanQueue(config, redis);
  control = createCampaignControl({
    store,
    queue,
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
    queue,
    store,
    campaign: campaignId,
    ids: (async function* () {
      yield await Promise.resolve(ids);
    })(),
  });
});

afterEach(async () => {
  await queue.close();
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const jobCounts = () => queue.getJobCounts('waiting', 'delayed');

describe('campaign control', () => {
  it('pauses by removing the jobs of waiting devices and keeping the devices queued', async () => {
    const result = await control.pause(campaignId);
    expect(result).toMatchObject({ previous: 'running', state: 'paused', jobsRemoved: 30 });
    expect(await jobCounts()).toEqual({ waiting: 0, delayed: 0 });
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(30);
  });

  it('resumes with the same job ids, deferred devices delayed to their time', async () => {
    await store.markDeferred(campaignId, hexId(0), { until: NOW + 60_000, at: NOW });
    await store.markRequested(
      campaignId,
      hexId(1),
      { id: 'a', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: NOW },
    );
    await queue.remove(`${campaignId}.${hexId(1)}`);
    await control.pause(campaignId);
    const result = await control.resume(campaignId);
    expect(result).toMatchObject({ previous: 'paused', state: 'running', jobsSubmitted: 29 });
    expect(await jobCounts()).toEqual({ waiting: 28, delayed: 1 });
    const deferred = await queue.getJob(`${campaignId}.${hexId(0)}`);
    expect(deferred?.opts.delay).toBe(60_000);
    // A second resume (after a crash, or by habit) adds nothing twice.
    await control.resume(campaignId);
    expect(await jobCounts()).toEqual({ waiting: 28, delayed: 1 });
  });

  it('cancels waiting devices, removes their jobs, and leaves recorded ones alone', async () => {
    await store.markRequested(
      campaignId,
      hexId(2),
      { id: 'b', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: NOW },
    );
    await queue.remove(`${campaignId}.${hexId(2)}`);
    const result = await control.cancel(campaignId);
    expect(result).toMatchObject({ state: 'cancelled', devicesCancelled: 29, jobsRemoved: 29 });
    expect(await jobCounts()).toEqual({ waiting: 0, delayed: 0 });
    const campaign = await store.getCampaign(campaignId);
    expect(campaign?.counts).toMatchObject({ queued: 0, cancelled: 29, requested: 1 });
    expect((await control.resume(campaignId)).state).toBe('cancelled');
    expect(await jobCounts()).toEqual({ waiting: 0, delayed: 0 });
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
