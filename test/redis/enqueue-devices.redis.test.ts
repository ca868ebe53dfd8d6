import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import type { Config } from '../../src/config/schema.js';
import { enqueueDevices } from '../../src/producer/enqueue-devices.js';
import { createScanQueue, type ScanQueue } from '../../src/scan/scan-queue.js';
import { parseScanJobId } from '../../src/scan/scan-job.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

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
let queue: ScanQueue;
let campaignId: string;

beforeEach(async () => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('enqueue');
  const config = {
    redis: { prefix, url: testRedisUrl(), requireNoEviction: false },
    scan: { attempts: 6, backoff: 5_000 },
  } as unknown as Config;
  store = createCampaignStore(redis, prefix);
  queue = createScanQueue(config, redis);
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
  await queue.close();
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

describe('enqueueDevices', () => {
  it('records every device and gives each one job with a deterministic id', async () => {
    const ids = [hexId(1), hexId(2), hexId(1), hexId(3)];
    const result = await enqueueDevices({
      queue,
      store,
      campaign: campaignId,
      ids: chunks(ids, 2),
    });
    expect(result).toMatchObject({ accepted: 3, duplicate: 1 });
    expect(await queue.getWaitingCount()).toBe(3);
    const job = await queue.getJob(`${campaignId}.${hexId(2)}`);
    // The id alone names the campaign and the device: no bytes spent on them twice.
    expect(job?.data).toEqual({});
    expect(parseScanJobId(job?.id)).toEqual({ campaignId, machineId: hexId(2) });
    expect(job?.name).toBe('scan');
    expect(job?.opts).toMatchObject({
      attempts: 6,
      backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
      removeOnComplete: true,
      removeOnFail: true,
    });
    const campaign = await store.getCampaign(campaignId);
    expect(campaign).toMatchObject({ total: 3, intakeOpen: false, state: 'running' });
  });

  it('neither doubles nor loses a device when the same command runs twice', async () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => hexId(i));
    await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    const again = await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    expect(again).toMatchObject({ accepted: 0, duplicate: 1_200 });
    expect(await queue.getWaitingCount()).toBe(1_200);
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(1_200);
  });

  it('gives jobs on a re-run to devices recorded before a crash that came before addBulk', async () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => hexId(i));
    // The crash: the first chunk reached the store, then the process died before addBulk.
    await store.openIntake(campaignId);
    await store.addDevices(campaignId, ids.slice(0, 500));
    expect(await queue.getWaitingCount()).toBe(0);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(true);

    const rerun = await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun).toMatchObject({ accepted: 500, duplicate: 500 });
    expect(await queue.getWaitingCount()).toBe(1_000);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(false);
  });

  it('finishes the intake on a re-run after a crash that came after addBulk', async () => {
    const ids = [hexId(1), hexId(2)];
    await store.openIntake(campaignId);
    await store.addDevices(campaignId, ids);
    await queue.addBulk(
      ids.map((machineId) => ({
        name: 'scan',
        data: {},
        opts: { jobId: `${campaignId}.${machineId}` },
      })),
    );
    const rerun = await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun).toMatchObject({ accepted: 0, duplicate: 2 });
    expect(await queue.getWaitingCount()).toBe(2);
    expect((await store.getCampaign(campaignId))?.intakeOpen).toBe(false);
  });

  it('gives no new job to a device whose job already ended, nor a second job to a waiting one', async () => {
    const ids = [hexId(1), hexId(2)];
    await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    // Device 1 was scanned and its job removed on completion; device 2's job is still waiting.
    await store.markRequested(
      campaignId,
      hexId(1),
      { id: 'a1', status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
      { joinedExisting: false, at: 1 },
    );
    await queue.remove(`${campaignId}.${hexId(1)}`);
    const rerun = await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
    expect(rerun.jobsSubmitted).toBe(1);
    expect(await queue.getWaitingCount()).toBe(1);
  });

  it('records the devices of a paused campaign without jobs', async () => {
    await store.openIntake(campaignId);
    await store.changeCampaignState(campaignId, 'paused');
    await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks([hexId(1)]) });
    expect(await queue.getWaitingCount()).toBe(0);
    expect((await store.getCampaign(campaignId))?.counts.queued).toBe(1);
  });

  it('keeps Redis within 1 KB per waiting device (campaign store + BullMQ job)', async () => {
    const n = 10_000;
    const ids = Array.from({ length: n }, (_, i) => hexId(i * 7919));
    await enqueueDevices({ queue, store, campaign: campaignId, ids: chunks(ids) });
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
