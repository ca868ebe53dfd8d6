import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { auditSink, workerActor } from '../../src/audit/record-audit.js';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCampaignStore } from '../../src/campaigns/redis-campaign-store.js';
import { retentionKeys } from '../../src/retention/archive-index.js';
import { createRetentionLock } from '../../src/retention/retention-lock.js';
import { startRetentionSweeper } from '../../src/retention/retention-sweeper.js';
import { createLogger } from '../../src/shared/logger.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { campaignKeysLeft, DAY, pruneDeps, seedFinishedCampaign } from './retention-fixture.js';

let redis: Redis;
let prefix: string;
let dirs: string[];

beforeEach(() => {
  redis = new Redis(testRedisUrl());
  prefix = uniquePrefix('sweep');
  dirs = [];
});

afterEach(async () => {
  await cleanupPrefix(testRedisUrl(), prefix);
  redis.disconnect();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('retention sweeper', () => {
  it('sweeps in one process at a time and frees the lock after each round', async () => {
    const store = createCampaignStore(redis, prefix);
    const id = await seedFinishedCampaign(store, 40);
    const clock = Date.now() + 31 * DAY;
    const log = createLogger({ level: 'silent', name: 'test' });
    const lockKey = retentionKeys(prefix).lock;
    const sweeper = (lease = 60_000) => {
      const deps = pruneDeps(redis, prefix, store, () => clock);
      dirs.push(deps.archiveDir);
      return startRetentionSweeper({
        ...deps,
        audit: auditSink(redis, prefix, workerActor()),
        lock: createRetentionLock(redis, lockKey, lease),
        keepMs: 30 * DAY,
        intervalMs: 3_600_000,
        log,
      });
    };
    const first = sweeper();
    const second = sweeper();
    // Another process (a `prune` run, say) holds the lock: neither worker sweeps.
    const other = createRetentionLock(redis, lockKey);
    expect(await other.take()).toBe(true);
    expect(await first.sweepOnce()).toBeNull();
    expect(await second.sweepOnce()).toBeNull();
    expect(await campaignKeysLeft(redis, prefix, id)).toHaveLength(3);
    await other.drop();

    const swept = await first.sweepOnce();
    expect(swept?.entries.map((e) => [e.campaignId, e.outcome])).toEqual([[id, 'archived']]);
    expect(await redis.exists(lockKey)).toBe(0);
    expect((await second.sweepOnce())?.entries).toEqual([]);
    expect(await campaignKeysLeft(redis, prefix, id)).toEqual([]);
    const audited = await createAuditLog(redis, prefix).list();
    expect(audited.map((e) => [e.action, e.target, e.who, e.source, e.outcome])).toEqual([
      ['campaign.archive', id, `worker:${hostname()}:${String(process.pid)}`, 'worker', 'ok'],
    ]);
    expect(audited[0]?.detail).toMatch(/^40 devices archived to .+, removed from Redis$/);
    await first.stop();
    await second.stop();
  });

  it('lets another process take over when the holder died without freeing the lock', async () => {
    const lockKey = retentionKeys(prefix).lock;
    const dead = createRetentionLock(redis, lockKey, 200);
    expect(await dead.take()).toBe(true);
    const next = createRetentionLock(redis, lockKey, 200);
    expect(await next.take()).toBe(false);
    // Taken once the dead holder's 200 ms lease has run out.
    await expect.poll(() => next.take(), { timeout: 10_000, interval: 20 }).toBe(true);
    await expect(dead.renew()).rejects.toThrow(/lock was lost/);
  });
});
