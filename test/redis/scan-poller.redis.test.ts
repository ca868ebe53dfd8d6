import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import type { MachineAction } from '../../src/defender/machine-action.js';
import type { MachineActionFilter } from '../../src/defender/odata.js';
import {
  startActionStatusPoller,
  type ActionStatusPoller,
} from '../../src/scan/action-status-poller.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

const CAMPAIGN = 'c-pollerabcdef';
const DEVICE = 'b'.repeat(40);
let prefix = '';
const redis = new Redis(testRedisUrl());
const pollers: ActionStatusPoller[] = [];
afterAll(() => {
  redis.disconnect();
});
afterEach(async () => {
  for (const poller of pollers.splice(0)) await poller.stop();
  await cleanupPrefix(testRedisUrl(), prefix);
});

function lister(actions: MachineAction[]) {
  const filters: MachineActionFilter[] = [];
  return {
    filters,
    listMachineActions: async function* (filter?: MachineActionFilter) {
      filters.push(filter ?? {});
      await Promise.resolve();
      yield* actions;
    },
  };
}

describe('action status poller', () => {
  it('refreshes recorded actions with one filtered list call, one process at a time', async () => {
    prefix = uniquePrefix('poll');
    const store = createCampaignStore(redis, prefix);
    await store.createCampaign({
      id: CAMPAIGN,
      name: 'p',
      scanType: 'Quick',
      comment: `x [fleetscan:${CAMPAIGN}]`,
      createdAt: Date.now(),
      createdBy: 't',
      source: 't',
      tenant: 'default',
      priority: 'normal',
      window: null,
      schedule: null,
    });
    await store.addDevices(CAMPAIGN, [DEVICE, 'c'.repeat(40)]);
    await store.markRequested(
      CAMPAIGN,
      DEVICE,
      { id: 'act-1', status: 'Pending', creationDateTimeUtc: '2027-01-01T00:00:00Z' },
      { joinedExisting: false, at: 1 },
    );
    const listed: MachineAction = {
      id: 'act-1',
      type: 'RunAntiVirusScan',
      status: 'Succeeded',
      machineId: DEVICE,
      creationDateTimeUtc: '2027-01-01T00:00:00Z',
      requestorComment: `x [fleetscan:${CAMPAIGN}]`,
    };
    const first = lister([listed, { ...listed, id: 'foreign', requestorComment: 'manual' }]);
    const second = lister([listed]);
    const log = pino({ level: 'silent' });
    const a = startActionStatusPoller({
      redis,
      prefix,
      store,
      client: first,
      log,
      intervalMs: 60_000,
    });
    const b = startActionStatusPoller({
      redis,
      prefix,
      store,
      client: second,
      log,
      intervalMs: 60_000,
    });
    pollers.push(a, b);

    await expect(a.pollOnce()).resolves.toBe(1);
    await expect(b.pollOnce()).resolves.toBe(0); // a holds the lock
    expect(first.filters).toEqual([expect.objectContaining({ type: 'RunAntiVirusScan' })]);
    expect(second.filters).toHaveLength(0);
    expect(await store.getDevice(CAMPAIGN, DEVICE)).toMatchObject({ actionStatus: 'Succeeded' });

    await a.stop(); // frees the lock for the next process
    await expect(b.pollOnce()).resolves.toBe(0);
    expect(second.filters).toHaveLength(1);
  });
});
