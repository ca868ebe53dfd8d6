import { Redis } from 'ioredis';
import { newCampaignId } from '../../src/campaigns/campaign-id.js';
import {
  createCampaignStore,
  type RedisCampaignStore,
} from '../../src/campaigns/redis-campaign-store.js';
import type { DashboardDeps } from '../../src/dashboard/dashboard-deps.js';
import type { BudgetUsage } from '../../src/lanes/budget-usage.js';
import { createCallStats } from '../../src/metrics/call-stats.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';

/** A machine id (40 hex) made from a number, so tests can name devices. */
export function machineId(n: number): string {
  return n.toString(16).padStart(40, '0');
}

export interface SeededCampaign {
  id: string;
  name: string;
  ids: string[];
}

/**
 * Fills a real campaign store: `total` devices, of which the first `requested` have an action,
 * the next `failed` failed (alternating two reasons) and the next `deferred` are busy.
 */
export async function seedCampaign(
  store: RedisCampaignStore,
  shape: {
    name: string;
    total: number;
    requested: number;
    failed: number;
    deferred: number;
    createdAt?: number;
  },
): Promise<SeededCampaign> {
  const createdAt = shape.createdAt ?? Date.now() - 60_000;
  const id = newCampaignId(createdAt);
  await store.createCampaign({
    id,
    name: shape.name,
    scanType: 'Quick',
    comment: `weekly sweep [fleetscan:${id}]`,
    createdAt,
    createdBy: 'ops@example.org',
    source: 'file:devices.csv',
    tenant: 'default',
    priority: 'normal',
    window: null,
    schedule: null,
  });
  const ids = Array.from({ length: shape.total }, (_, i) => machineId(i + 1));
  await store.addDevices(id, ids);
  let next = 0;
  const now = Date.now();
  for (let i = 0; i < shape.requested; i++, next++) {
    const device = ids[next]!;
    await store.markSent(id, device, now);
    const action = {
      id: `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`,
      status: 'Pending',
      creationDateTimeUtc: new Date(now).toISOString(),
    };
    await store.markRequested(id, device, action, { joinedExisting: i === 0, at: now });
  }
  for (let i = 0; i < shape.failed; i++, next++) {
    const reason =
      i % 2 === 0
        ? 'ResourceNotFound: Machine not found'
        : 'OsPlatformNotSupported: <b>macOS 10</b>';
    await store.markSent(id, ids[next]!, now);
    await store.markFailed(id, ids[next]!, reason);
  }
  for (let i = 0; i < shape.deferred; i++, next++) {
    await store.markSent(id, ids[next]!, now);
    await store.markDeferred(id, ids[next]!, { until: now + 60_000, at: now });
  }
  return { id, name: shape.name, ids };
}

export interface DashboardFixture {
  prefix: string;
  redis: Redis;
  store: RedisCampaignStore;
  stats: ReturnType<typeof createCallStats>;
  budget: { usage: BudgetUsage[] };
  deps(overrides?: Partial<DashboardDeps>): DashboardDeps;
  close(): Promise<void>;
}

/** A prefix of its own in the test Redis, a real store and call stats, and a budget the test sets. */
export function dashboardFixture(): DashboardFixture {
  const url = testRedisUrl();
  const prefix = uniquePrefix('dash');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const store = createCampaignStore(redis, prefix);
  const stats = createCallStats(redis, prefix);
  const budget = {
    usage: [
      {
        family: 'scan',
        windows: [
          { cap: 100, windowMs: 60_000, used: 0 },
          { cap: 1500, windowMs: 3_600_000, used: 0 },
        ],
        pausedUntil: null,
      },
    ] as BudgetUsage[],
  };
  return {
    prefix,
    redis,
    store,
    stats,
    budget,
    deps: (overrides = {}) => ({
      store,
      redis,
      stats,
      budgets: [{ id: 'commercial:tenant-1:app-1', usage: () => Promise.resolve(budget.usage) }],
      credentials: { token: 'test-token-0123456789' },
      allowActions: false,
      requireNoEviction: true,
      ...overrides,
    }),
    async close() {
      await cleanupPrefix(url, prefix);
      redis.disconnect();
    },
  };
}
