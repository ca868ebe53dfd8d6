import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { keyLayoutKey } from '../../src/ops/key-layout.js';
import {
  assertStoreSchema,
  migrateStore,
  readStoreSchema,
  schemaRefusal,
  STORE_SCHEMA,
  StoreSchemaError,
} from '../../src/ops/store-schema.js';
import { writeCampaign, writeLayout1Campaign } from '../helpers/layout1-store.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('schema');
});
afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
});

const currentCampaign = () => writeCampaign(redis, prefix);
const layout1Campaign = () => writeLayout1Campaign(redis, prefix);

describe('the store schema', () => {
  it('is empty on an empty store, and reading it writes nothing', async () => {
    expect(await readStoreSchema(redis, prefix)).toEqual({ state: 'empty' });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  });

  it('marks an unmarked store of current names as current (what 0.1.0 left behind)', async () => {
    await currentCampaign();
    expect(await redis.get(keyLayoutKey(prefix))).toBeNull();
    expect(await readStoreSchema(redis, prefix)).toEqual({
      state: 'current',
      version: STORE_SCHEMA,
    });
    expect(await redis.get(keyLayoutKey(prefix))).toBe(String(STORE_SCHEMA));
  });

  it('finds layout 1 by its names, and a newer or unreadable marker as newer', async () => {
    await layout1Campaign();
    expect(await readStoreSchema(redis, prefix)).toEqual({ state: 'older', version: 1 });
    await redis.set(keyLayoutKey(prefix), String(STORE_SCHEMA + 1));
    expect(await readStoreSchema(redis, prefix)).toEqual({
      state: 'newer',
      version: STORE_SCHEMA + 1,
    });
    await redis.set(keyLayoutKey(prefix), 'v-next');
    expect(await readStoreSchema(redis, prefix)).toEqual({ state: 'newer', version: null });
  });

  it('refuses everything on a newer store and writes on an older one, each in one sentence', () => {
    const newer = schemaRefusal({ state: 'newer', version: 9 }, 'read');
    expect(newer).toMatch(
      /^The Redis store has layout 9, written by a newer fleetscan; this fleetscan \(.+\) uses store layout 2\. Run the newer version here \(downgrades are refused\); nothing was changed\.$/,
    );
    expect(schemaRefusal({ state: 'older', version: 1 }, 'read')).toBeNull();
    expect(schemaRefusal({ state: 'older', version: 1 }, 'write')).toContain(
      'Run `fleetscan migrate` once',
    );
    expect(schemaRefusal({ state: 'current', version: STORE_SCHEMA }, 'write')).toBeNull();
    expect(schemaRefusal({ state: 'empty' }, 'write')).toBeNull();
  });

  it('stops a writer before it writes to an older store', async () => {
    await layout1Campaign();
    const before = (await redis.keys(`${prefix}:*`)).sort();
    await expect(assertStoreSchema(redis, prefix, 'write')).rejects.toBeInstanceOf(
      StoreSchemaError,
    );
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(before);
  });
});

describe('migrateStore (fleetscan migrate)', () => {
  it('says what would move on a dry run and changes nothing', async () => {
    await layout1Campaign();
    const before = (await redis.keys(`${prefix}:*`)).sort();
    const plan = await migrateStore(redis, prefix, { dryRun: true });
    expect(plan).toMatchObject({ from: 1, to: STORE_SCHEMA, dryRun: true });
    expect(plan.renamed).toBeGreaterThanOrEqual(2);
    expect(plan.summary).toContain('dry run: nothing changed');
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(before);
  });

  it('converts an older store once; a second run and a current store change nothing', async () => {
    const id = await layout1Campaign();
    const done = await migrateStore(redis, prefix, { dryRun: false });
    expect(done.from).toBe(1);
    expect(done.renamed).toBeGreaterThanOrEqual(2);
    expect(await readStoreSchema(redis, prefix)).toEqual({
      state: 'current',
      version: STORE_SCHEMA,
    });
    expect(await createCampaignStore(redis, prefix).getCampaign(id)).toMatchObject({
      id,
      counts: { queued: 2 },
    });
    const again = await migrateStore(redis, prefix, { dryRun: false });
    expect(again).toMatchObject({ from: STORE_SCHEMA, renamed: 0 });
    expect(again.summary).toContain('nothing to do');
  });

  it('refuses a newer store and leaves it as it was', async () => {
    await currentCampaign();
    await redis.set(keyLayoutKey(prefix), String(STORE_SCHEMA + 1));
    const before = (await redis.keys(`${prefix}:*`)).sort();
    await expect(migrateStore(redis, prefix, { dryRun: false })).rejects.toThrow(
      /written by a newer fleetscan/,
    );
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(before);
    expect(await redis.get(keyLayoutKey(prefix))).toBe(String(STORE_SCHEMA + 1));
  });

  it('leaves an empty store empty', async () => {
    expect(await migrateStore(redis, prefix, { dryRun: false })).toMatchObject({
      from: null,
      renamed: 0,
    });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  });
});
