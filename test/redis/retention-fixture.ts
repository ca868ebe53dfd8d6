import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import { exportDevices, EXPORT_FORMATS } from '../../src/campaigns/export-devices.js';
import type { DeviceRecord } from '../../src/campaigns/campaign.js';
import type { RedisCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { createArchiveIndex } from '../../src/retention/archive-index.js';
import type { PruneDeps } from '../../src/retention/prune-campaigns.js';
import { campaignKeys } from '../../src/campaigns/campaign-keys.js';

export const DAY = 86_400_000;

/** A 40-hex machine id from a number. */
export const machineId = (i: number) => i.toString(16).padStart(40, '0');

/**
 * A campaign of `devices` devices that ends by itself (every device settled): most requested with
 * an action, some failed with a reason holding CSV-hostile text, some joined an existing action.
 */
export async function seedFinishedCampaign(
  store: RedisCampaignStore,
  devices: number,
  createdAt = Date.now(),
): Promise<string> {
  const id = newCampaignId();
  await store.createCampaign({
    id,
    name: 'weekly',
    scanType: 'Full',
    comment: `weekly [fleetscan:${id}]`,
    createdAt,
    createdBy: 'ops@host',
    source: 'file:devices.csv',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  const ids = Array.from({ length: devices }, (_, i) => machineId(i + 1));
  await store.openIntake(id);
  await store.addDevices(id, ids);
  await store.closeIntake(id);
  await Promise.all(
    ids.map(async (m, i) => {
      await store.markSent(id, m, createdAt + i);
      if (i % 10 === 3) {
        await store.markFailed(id, m, `BadRequest: "quoted", comma, =formula ${String(i)}`);
        return;
      }
      await store.markRequested(
        id,
        m,
        { id: `act-${String(i)}`, status: 'Pending', creationDateTimeUtc: '2026-11-23T11:00:00Z' },
        { joinedExisting: i % 7 === 0, at: createdAt + 1_000 + i },
      );
    }),
  );
  return id;
}

export async function collect(text: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of text) all += chunk;
  return all;
}

/** The export of a campaign in every format, as `fleetscan export` writes it. */
export async function exportAll(devices: () => AsyncIterable<DeviceRecord>) {
  const out: Record<string, string> = {};
  for (const format of EXPORT_FORMATS)
    out[format] = await collect(exportDevices(devices(), format));
  return out;
}

/** Every key of the campaign, found by SCAN (what "gone from Redis" means). */
export async function campaignKeysLeft(
  redis: Redis,
  prefix: string,
  id: string,
): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${campaignKeys(prefix, id).campaign}*`,
      'COUNT',
      1000,
    );
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

export function pruneDeps(
  redis: Redis,
  prefix: string,
  store: RedisCampaignStore,
  now: () => number,
  overrides: Partial<PruneDeps> = {},
): PruneDeps {
  return {
    redis,
    prefix,
    store,
    index: createArchiveIndex(redis, prefix),
    archiveDir: mkdtempSync(join(tmpdir(), 'fleetscan-archive-')),
    scanBatch: 100,
    now,
    ...overrides,
  };
}
