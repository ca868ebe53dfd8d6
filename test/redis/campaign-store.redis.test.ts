import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignMeta } from '../../src/campaigns/campaign.js';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { ReconcilePendingError, UnknownDeviceError } from '../../src/campaigns/errors.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import { mayHaveReachedApi } from '../../src/scan/process-device.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const action = (id: string) => ({
  id,
  status: 'Pending',
  creationDateTimeUtc: '2026-11-23T11:00:00Z',
});

let redis: Redis;
let prefix: string;
let store: RedisCampaignStore;
let meta: CampaignMeta;

beforeEach(async () => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('campaign');
  store = createCampaignStore(redis, prefix);
  meta = {
    id: newCampaignId(),
    name: 'nightly',
    scanType: 'Quick',
    comment: 'nightly [fleetscan:x]',
    createdAt: 1_000,
    createdBy: 'ops@host',
    source: 'file:devices.csv',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  };
  await store.createCampaign(meta);
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

/** Adds devices the way enqueue does: intake open while adding, closed after. */
async function seed(ids: string[]) {
  await store.openIntake(meta.id);
  const added = await store.addDevices(meta.id, ids);
  await store.closeIntake(meta.id);
  return added;
}

describe('campaign store', () => {
  it('creates a campaign once and lists it newest first', async () => {
    await store.createCampaign({ ...meta, name: 'changed' });
    const second = { ...meta, id: newCampaignId(), createdAt: 2_000 };
    await store.createCampaign(second);
    const list = await store.listCampaigns();
    expect(list.map((c) => c.id)).toEqual([second.id, meta.id]);
    expect(list[1]).toMatchObject({
      name: 'nightly',
      state: 'running',
      total: 0,
      finishedAt: null,
    });
  });

  it('adds devices as queued and leaves existing ones as they are', async () => {
    expect(await seed([A, B, A])).toBe(2);
    await store.markFailed(meta.id, A, 'ResourceNotFound');
    expect(await seed([A, C])).toBe(1);
    const campaign = await store.getCampaign(meta.id);
    expect(campaign?.counts).toEqual({
      queued: 2,
      deferred: 0,
      requested: 0,
      failed: 1,
      cancelled: 0,
    });
    expect(campaign?.total).toBe(3);
    expect((await store.getDevice(meta.id, A))?.state).toBe('failed');
  });

  it('keeps per-state counts exact through every transition', async () => {
    await seed([A, B, C]);
    await store.markSent(meta.id, A, 10);
    await store.markDeferred(meta.id, A, { until: 500, at: 20 });
    await store.markDeferred(meta.id, A, { until: 500, at: 20 }); // the same deferral twice
    await store.markQueued(meta.id, A);
    await store.markDeferred(meta.id, A, { until: 900, at: 600 });
    await store.markSent(meta.id, B, 30);
    await store.markRequested(meta.id, B, action('act-b'), { joinedExisting: true, at: 40 });
    const c = await store.getCampaign(meta.id);
    expect(c?.counts).toEqual({ queued: 1, deferred: 1, requested: 1, failed: 0, cancelled: 0 });
    expect(c?.deferrals).toBe(2);
    expect(c?.joinedExisting).toBe(1);
    const a = await store.getDevice(meta.id, A);
    expect(a).toMatchObject({
      state: 'deferred',
      attempts: 1,
      deferredUntil: 900,
      firstBusyAt: 20,
      sentAt: 10,
    });
  });

  it("leaves a device killed mid-call looking sent, even when the caller's clock is behind the deferring one", async () => {
    await seed([A]);
    // Host 1 deferred the device until 2,000; host 2, whose clock is behind, calls at 1,500
    // and dies before recording: the next attempt must look the action up, not call again.
    await store.markSent(meta.id, A, 900);
    await store.markDeferred(meta.id, A, { until: 2_000, at: 1_000 });
    expect(mayHaveReachedApi((await store.getDevice(meta.id, A))!)).toBe(false);
    await store.markSent(meta.id, A, 1_500);
    const device = await store.getDevice(meta.id, A);
    expect(device).toMatchObject({ state: 'deferred', sentAt: 1_500, deferredUntil: null });
    expect(mayHaveReachedApi(device!)).toBe(true);
  });

  it('reads and marks a device in one step unless an earlier call may have reached the API', async () => {
    await seed([A, B, C]);
    expect(await store.markSentUnlessMaybeSent(meta.id, A, 100)).toMatchObject({
      state: 'queued',
      attempts: 1,
      sentAt: 100,
    });
    // A's send was never answered: the next turn must look it up, and nothing changes.
    const before = await redis.hget(`${prefix}:campaign:{${meta.id}}:devices`, A);
    await expect(store.markSentUnlessMaybeSent(meta.id, A, 200)).resolves.toBeNull();
    expect(await redis.hget(`${prefix}:campaign:{${meta.id}}:devices`, A)).toBe(before);
    // A busy answer after the send: it created nothing, the device may be called again.
    await store.markSent(meta.id, B, 100);
    await store.markDeferred(meta.id, B, { until: 500, at: 110 });
    expect(await store.markSentUnlessMaybeSent(meta.id, B, 600)).toMatchObject({ attempts: 2 });
    // A device no longer waiting comes back as it is.
    await store.markRequested(meta.id, C, action('act-c'), { joinedExisting: false, at: 5 });
    expect(await store.markSentUnlessMaybeSent(meta.id, C, 700)).toMatchObject({
      state: 'requested',
      attempts: 0,
    });
    await expect(store.markSentUnlessMaybeSent(meta.id, 'd'.repeat(40), 1)).rejects.toBeInstanceOf(
      UnknownDeviceError,
    );
  });

  it('passes the run_id read once per connection, and refuses to trust an answer from after a reconnect', async () => {
    await seed([A, B]);
    // A server the campaign never saw: its records may have been rolled back.
    let generation = 0;
    const serverRun = {
      current: () => ({ runId: 'another-server', generation }),
      changedSince: (before: number) => before !== generation,
    };
    const other = createCampaignStore(redis, prefix, { serverRun });
    await expect(other.markSent(meta.id, A, 1)).rejects.toBeInstanceOf(ReconcilePendingError);
    expect(await redis.hget(`${prefix}:campaign:{${meta.id}}`, 'run')).toBe('another-server');
    await store.finishReconcile(meta.id, 1);
    // The same server again: the call may go.
    expect(await other.markSent(meta.id, A, 2)).toMatchObject({ sentAt: 2 });
    // The connection closed while the mark was on its way: ioredis may have sent it again to a
    // restarted server, with the old run_id; the caller must not call.
    serverRun.current = () => {
      const now = { runId: 'another-server', generation };
      generation++;
      return now;
    };
    await expect(other.markSent(meta.id, B, 3)).rejects.toBeInstanceOf(ReconcilePendingError);
  });

  it('keeps the first recorded action when a device is recorded twice', async () => {
    await seed([A, B]);
    const first = await store.markRequested(meta.id, A, action('first'), {
      joinedExisting: false,
      at: 5,
    });
    const again = await store.markRequested(meta.id, A, action('second'), {
      joinedExisting: true,
      at: 9,
    });
    expect(again).toEqual(first);
    expect(first).toMatchObject({
      state: 'requested',
      machineActionId: 'first',
      actionStatus: 'Pending',
      actionCreatedAt: '2026-11-23T11:00:00Z',
      requestedAt: 5,
      joinedExisting: false,
    });
    const c = await store.getCampaign(meta.id);
    expect(c?.counts.requested).toBe(1);
    expect(c?.joinedExisting).toBe(0);
  });

  it('counts failures by reason, keeps the first reason, and ignores moves out of a final state', async () => {
    await seed([A, B, C]);
    await store.markFailed(meta.id, A, 'pending-timeout');
    await store.markFailed(meta.id, A, 'other');
    await store.markFailed(meta.id, B, 'pending-timeout');
    await store.markCancelled(meta.id, C);
    await store.markDeferred(meta.id, C, { until: 1, at: 1 });
    await store.markSent(meta.id, C, 1);
    const c = await store.getCampaign(meta.id);
    expect(c?.failuresByReason).toEqual({ 'pending-timeout': 2 });
    expect(c?.counts).toEqual({ queued: 0, deferred: 0, requested: 0, failed: 2, cancelled: 1 });
    expect((await store.getDevice(meta.id, A))?.reason).toBe('pending-timeout');
    expect((await store.getDevice(meta.id, C))?.attempts).toBe(0);
  });

  it('records an action found for a failed device and takes it out of the failure counts', async () => {
    await seed([A, B]);
    await store.markFailed(meta.id, A, 'InternalServerError');
    await store.markRequested(meta.id, A, action('late'), { joinedExisting: false, at: 7 });
    const c = await store.getCampaign(meta.id);
    expect(c?.failuresByReason).toEqual({});
    expect(c?.counts.failed).toBe(0);
    expect((await store.getDevice(meta.id, A))?.reason).toBeNull();
  });

  it('finishes the campaign when nothing is queued or deferred any more', async () => {
    await seed([A, B]);
    await store.markRequested(meta.id, A, action('x'), { joinedExisting: false, at: 1 });
    expect((await store.getCampaign(meta.id))?.state).toBe('running');
    await store.markFailed(meta.id, B, 'OsPlatformNotSupported');
    const c = await store.getCampaign(meta.id);
    expect(c?.state).toBe('finished');
    expect(c?.finishedAt).toBeGreaterThan(1_600_000_000_000);
  });

  it('does not finish while the intake is open, nor when cancelled', async () => {
    await store.openIntake(meta.id);
    await store.addDevices(meta.id, [A]);
    await store.markFailed(meta.id, A, 'x');
    expect((await store.getCampaign(meta.id))?.state).toBe('running');
    expect((await store.getCampaign(meta.id))?.intakeOpen).toBe(true);
    await store.addDevices(meta.id, [B]);
    await store.setCampaignState(meta.id, 'cancelled');
    await store.closeIntake(meta.id);
    await store.markCancelled(meta.id, B);
    expect((await store.getCampaign(meta.id))?.state).toBe('cancelled');
  });

  it('finishes at once when the intake closes on a campaign with nothing left', async () => {
    await store.openIntake(meta.id);
    expect(await store.closeIntake(meta.id)).toEqual({ previous: 'running', state: 'finished' });
  });

  it('reopens a finished campaign while devices are added again, and finishes it after', async () => {
    await seed([A]);
    await store.markFailed(meta.id, A, 'x');
    expect(await store.openIntake(meta.id)).toEqual({ previous: 'finished', state: 'running' });
    expect((await store.getCampaign(meta.id))?.finishedAt).toBeNull();
    await store.addDevices(meta.id, [A]);
    expect(await store.closeIntake(meta.id)).toEqual({ previous: 'running', state: 'finished' });
  });

  it('moves campaign states only along the allowed paths', async () => {
    await seed([A]);
    expect(await store.changeCampaignState(meta.id, 'paused')).toEqual({
      previous: 'running',
      state: 'paused',
    });
    expect(await store.changeCampaignState(meta.id, 'paused')).toEqual({
      previous: 'paused',
      state: 'paused',
    });
    expect(await store.changeCampaignState(meta.id, 'running')).toEqual({
      previous: 'paused',
      state: 'running',
    });
    expect(await store.changeCampaignState(meta.id, 'cancelled')).toEqual({
      previous: 'running',
      state: 'cancelled',
    });
    expect(await store.changeCampaignState(meta.id, 'running')).toEqual({
      previous: 'cancelled',
      state: 'cancelled',
    });
    expect(await store.changeCampaignState('c-000000000000', 'paused')).toBeNull();
  });

  it('cancels only waiting devices in bulk', async () => {
    await seed([A, B, C]);
    await store.markRequested(meta.id, A, action('x'), { joinedExisting: false, at: 1 });
    await store.markDeferred(meta.id, B, { until: 10, at: 1 });
    expect(await store.cancelWaitingDevices(meta.id, [A, B, C])).toEqual([B, C]);
    const c = await store.getCampaign(meta.id);
    expect(c?.counts).toEqual({ queued: 0, deferred: 0, requested: 1, failed: 0, cancelled: 2 });
  });

  it('updates action statuses only where the action id matches', async () => {
    await seed([A, B]);
    await store.markRequested(meta.id, A, action('act-a'), { joinedExisting: false, at: 1 });
    const changed = await store.updateActionStatuses(meta.id, [
      { id: 'act-a', machineId: A, status: 'Succeeded' },
      { id: 'other', machineId: B, status: 'Succeeded' },
    ]);
    expect(changed).toBe(1);
    expect((await store.getDevice(meta.id, A))?.actionStatus).toBe('Succeeded');
    expect((await store.getDevice(meta.id, B))?.actionStatus).toBeNull();
  });

  it('rejects transitions of a device the campaign does not have', async () => {
    await expect(store.markSent(meta.id, A, 1)).rejects.toBeInstanceOf(UnknownDeviceError);
  });

  it('pages through a large device table by cursor, filtered by state and search', async () => {
    const ids = Array.from({ length: 2_500 }, (_, i) => i.toString(16).padStart(40, '0'));
    await seed(ids);
    for (const id of ids.slice(0, 300)) await store.markFailed(meta.id, id, 'x');
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.listDevices(meta.id, { state: 'failed', cursor, limit: 50 });
      for (const d of page.devices) {
        expect(d.state).toBe('failed');
        seen.add(d.machineId);
      }
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== null);
    expect(seen.size).toBe(300);
    expect(pages).toBeGreaterThan(1);
    const found = await store.listDevices(meta.id, { search: '9c4', limit: 5_000 });
    expect(found.devices.map((d) => d.machineId).sort()).toEqual(
      ids.filter((id) => id.includes('9c4')),
    );
    const streamed = new Set<string>();
    for await (const device of store.iterateDevices(meta.id)) streamed.add(device.machineId);
    expect(streamed.size).toBe(2_500);
  });
});
