import { existsSync, readdirSync, rmSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { campaignIndexKey, campaignKeys } from '../../src/campaigns/campaign-keys.js';
import { lifecycleKey } from '../../src/tracking/lifecycle-store.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import { archiveCampaign, NotArchivableError } from '../../src/retention/archive-campaign.js';
import { ArchiveCorruptError } from '../../src/retention/archive-format.js';
import {
  createArchiveSource,
  createCampaignReader,
  isArchived,
} from '../../src/retention/campaign-reader.js';
import { pruneCampaigns, type PruneDeps } from '../../src/retention/prune-campaigns.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  campaignKeysLeft,
  DAY,
  exportAll,
  machineId,
  pruneDeps,
  seedFinishedCampaign,
} from './retention-fixture.js';

const KEEP = 30 * DAY;

let redis: Redis;
let prefix: string;
let store: RedisCampaignStore;
let clock: number;
let deps: PruneDeps;

const readerOf = (d: PruneDeps) =>
  createCampaignReader(store, createArchiveSource(d.index, d.archiveDir));

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('retention');
  store = createCampaignStore(redis, prefix);
  clock = Date.now();
  deps = pruneDeps(redis, prefix, store, () => clock);
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
  rmSync(deps.archiveDir, { recursive: true, force: true });
});

describe('retention', () => {
  it('archives a campaign once the clock passes retention.keep, removes its keys and exports it byte for byte', async () => {
    const id = await seedFinishedCampaign(store, 1_500);
    // Every kind of key a campaign has: host names from the source, the tracker's lifecycle.
    await store.setHostnames(
      id,
      new Map(Array.from({ length: 700 }, (_, i) => [machineId(i + 1), `ws-${String(i)}.corp`])),
    );
    const lifecycle = {
      settledAt: '1764000100000',
      verifiedAt: '1764000200000',
      'proof:completed': '1300',
      'skip:invalid': '4',
    };
    await redis.hset(lifecycleKey(prefix, id), lifecycle);
    const campaign = await store.getCampaign(id);
    expect(campaign?.state).toBe('finished');
    const before = await exportAll(() => store.iterateDevices(id));
    expect(before['csv']).toContain('ws-699.corp');

    clock = (campaign?.finishedAt ?? 0) + KEEP - 60_000;
    const early = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(early.entries).toEqual([]);
    expect(early.kept).toBe(1);
    expect(await campaignKeysLeft(redis, prefix, id)).toHaveLength(5);

    clock = (campaign?.finishedAt ?? 0) + KEEP + 1;
    const round = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(round.entries.map((e) => [e.campaignId, e.outcome, e.devices])).toEqual([
      [id, 'archived', 1_500],
    ]);
    expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);
    expect(await redis.zscore(campaignIndexKey(prefix), id)).toBeNull();
    expect(readdirSync(deps.archiveDir)).toEqual([`${id}.ndjson.gz`]);

    const reader = readerOf(deps);
    const archived = await reader.getCampaign(id);
    expect(archived && isArchived(archived) ? archived.archived.phase : null).toBe('done');
    expect(archived?.counts).toEqual(campaign?.counts);
    const after = await exportAll(() => reader.iterateDevices(id));
    expect(after).toEqual(before);
    expect(after['csv']?.split('\r\n')).toHaveLength(1_502);
    // `report` reads the lifecycle hash from the archive once Redis no longer has it.
    const source = createArchiveSource(deps.index, deps.archiveDir);
    expect(
      archived && isArchived(archived) ? await source.lifecycleFields(archived) : null,
    ).toEqual(lifecycle);
  });

  it('lists in a dry run what it would archive and changes nothing', async () => {
    const id = await seedFinishedCampaign(store, 20);
    clock += KEEP + DAY;
    const dry = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: true });
    expect(dry.entries.map((e) => [e.campaignId, e.outcome])).toEqual([[id, 'would-archive']]);
    expect(await campaignKeysLeft(redis, prefix, id)).toHaveLength(3);
    expect(readdirSync(deps.archiveDir)).toEqual([]);
  });

  it('redoes an archive whose run crashed between write and delete, leaving Redis whole meanwhile', async () => {
    const id = await seedFinishedCampaign(store, 300);
    const before = await exportAll(() => store.iterateDevices(id));
    clock += KEEP + DAY;
    const crashing = {
      ...deps,
      faults: { afterWrite: () => Promise.reject(new Error('killed after write')) },
    };
    const crashed = await pruneCampaigns(crashing, { olderThanMs: KEEP, dryRun: false });
    expect(crashed.entries[0]?.outcome).toBe('failed');
    // Consistent: the campaign is live and whole; the verified file waits beside it.
    expect(await campaignKeysLeft(redis, prefix, id)).toHaveLength(3);
    expect((await store.listCampaigns()).map((c) => c.id)).toEqual([id]);
    expect(await readerOf(deps).getCampaign(id)).not.toHaveProperty('archived');
    expect(await exportAll(() => readerOf(deps).iterateDevices(id))).toEqual(before);

    const next = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(next.entries.map((e) => e.outcome)).toEqual(['archived']);
    expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);
    expect(readdirSync(deps.archiveDir)).toEqual([`${id}.ndjson.gz`]);
    expect(await exportAll(() => readerOf(deps).iterateDevices(id))).toEqual(before);
  });

  it('finishes a removal that crashed half-way, serving reads from the archive meanwhile', async () => {
    const id = await seedFinishedCampaign(store, 400);
    const before = await exportAll(() => store.iterateDevices(id));
    clock += KEEP + DAY;
    const keys = campaignKeys(prefix, id);
    const crashing = {
      ...deps,
      faults: {
        afterMarked: async () => {
          const some = (await redis.hkeys(keys.devices)).slice(0, 150);
          await redis.hdel(keys.devices, ...some); // a first batch went, then the process died
          throw new Error('killed while deleting');
        },
      },
    };
    await pruneCampaigns(crashing, { olderThanMs: KEEP, dryRun: false });
    expect(await redis.hlen(keys.devices)).toBe(250);
    const reader = readerOf(deps);
    const halfway = await reader.getCampaign(id);
    expect(halfway && isArchived(halfway) ? halfway.archived.phase : null).toBe('deleting');
    expect(halfway?.total).toBe(400);
    expect(await exportAll(() => reader.iterateDevices(id))).toEqual(before);
    expect(await store.listCampaigns()).toEqual([]);

    const next = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(next.entries.map((e) => [e.campaignId, e.outcome])).toEqual([[id, 'resumed']]);
    expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);
    const done = await reader.getCampaign(id);
    expect(done && isArchived(done) ? done.archived.phase : null).toBe('done');
    expect(await exportAll(() => reader.iterateDevices(id))).toEqual(before);
  });

  it('keeps the Redis records when the archive on disk no longer verifies', async () => {
    const id = await seedFinishedCampaign(store, 200);
    clock += KEEP + DAY;
    await pruneCampaigns(
      { ...deps, faults: { afterMarked: () => Promise.reject(new Error('killed')) } },
      { olderThanMs: KEEP, dryRun: false },
    );
    const file = join(deps.archiveDir, `${id}.ndjson.gz`);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const next = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(next.entries[0]).toMatchObject({ campaignId: id, outcome: 'failed' });
    expect(next.entries[0]?.error).toMatch(/damaged/);
    expect(await redis.hlen(campaignKeys(prefix, id).devices)).toBe(200);
    await expect(exportAll(() => readerOf(deps).iterateDevices(id))).rejects.toBeInstanceOf(
      ArchiveCorruptError,
    );
  });

  it('archives on demand regardless of age, is idempotent, and refuses a running campaign', async () => {
    const id = await seedFinishedCampaign(store, 50);
    const first = await archiveCampaign(deps, id);
    expect(first.outcome).toBe('archived');
    expect(first.removed).toBe(50);
    const again = await archiveCampaign(deps, id);
    expect(again.outcome).toBe('already-archived');
    expect(existsSync(join(deps.archiveDir, `${id}.ndjson.gz`))).toBe(true);

    const running = await seedFinishedCampaign(store, 5);
    await store.openIntake(running);
    await expect(archiveCampaign(deps, running)).rejects.toBeInstanceOf(NotArchivableError);
    expect(await campaignKeysLeft(redis, prefix, running)).toHaveLength(3);
  });

  it('counts a cancelled campaign’s retention from the time it was cancelled', async () => {
    const id = await seedFinishedCampaign(store, 3);
    await store.openIntake(id); // running again, then cancelled: cancel records its own time
    await store.setCampaignState(id, 'cancelled');
    const cancelledAt = (await store.getCampaign(id))?.finishedAt ?? 0;
    expect(cancelledAt).toBeGreaterThan(0);
    clock = cancelledAt;
    const first = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(first.kept).toBe(1);
    clock += KEEP - 1;
    expect((await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false })).kept).toBe(1);
    clock += 1;
    const due = await pruneCampaigns(deps, { olderThanMs: KEEP, dryRun: false });
    expect(due.entries.map((e) => [e.campaignId, e.state, e.outcome])).toEqual([
      [id, 'cancelled', 'archived'],
    ]);
    expect(await redis.hlen(`${prefix}:retention:ended`)).toBe(0);
  });
});
