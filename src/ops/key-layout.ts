import { isCluster, type Redis } from '../shared/redis.js';
import { scanKeys } from '../shared/scan-keys.js';

/**
 * The key layout this version writes. Layout 2 added the Redis Cluster hash tags (campaigns,
 * schedules, webhook outboxes); a store written by layout 1 is renamed once, on a single server
 * (a cluster never held layout 1: it could not run it).
 */
export const KEY_LAYOUT = '2';

export function keyLayoutKey(prefix: string): string {
  return `${prefix}:layout`;
}

/**
 * The layout-2 name of a layout-1 key, or null for a key that keeps its name. Pure, so the
 * renaming rules are a table in the tests. Locks and their token counters are left alone: they
 * last a lease, and a fresh counter is safe (campaign fences are new in layout 2 too).
 */
export function layout2Name(prefix: string, key: string): string | null {
  if (!key.startsWith(`${prefix}:`)) return null;
  const rest = key.slice(prefix.length + 1);
  const campaign = /^campaign:(c-[a-z0-9]{12})((?::.*)?)$/.exec(rest);
  if (campaign) return `${prefix}:campaign:{${campaign[1] ?? ''}}${campaign[2] ?? ''}`;
  if (rest === 'schedules') return `${prefix}:{schedules}:names`;
  if (rest === 'stats:schedule-fires') return `${prefix}:{schedules}:stats:fires`;
  if (rest.startsWith('schedule:')) return `${prefix}:{schedules}:${rest}`;
  const webhook = /^webhooks:(outbox|deliveries):([^{}]+)$/.exec(rest);
  if (webhook) return `${prefix}:webhooks:${webhook[1] ?? ''}:{${webhook[2] ?? ''}}`;
  return null;
}

export interface LayoutMigration {
  renamed: number;
  /** Layout-1 keys left in place because their layout-2 name was taken. */
  conflicts: string[];
}

/**
 * Renames the keys of a layout-1 store (written before Redis Cluster support) to layout 2,
 * once: afterwards one GET of the marker says there is nothing to do. Safe to run from several
 * processes at once (RENAMENX; a key another process moved is simply gone). Stop workers of the
 * old version first: they would go on writing the old names.
 */
export async function migrateKeyLayout(redis: Redis, prefix: string): Promise<LayoutMigration> {
  const result: LayoutMigration = { renamed: 0, conflicts: [] };
  const marker = keyLayoutKey(prefix);
  if ((await redis.get(marker)) === KEY_LAYOUT) return result;
  // A cluster can only hold layout 2, and RENAME across slots would be refused there anyway.
  if (isCluster(redis)) return result;
  // An empty store gets no marker: a dry run or a refused scan must leave Redis untouched.
  const store = { inUse: false };
  await scanKeys(redis, `${prefix}:*`, 1_000, async (keys, node) => {
    for (const key of keys) {
      store.inUse = true;
      const target = layout2Name(prefix, key);
      if (target === null) continue;
      const moved = await node.renamenx(key, target).catch(() => null);
      if (moved === 1) result.renamed += 1;
      else if (moved === 0) result.conflicts.push(key);
    }
  });
  if (store.inUse) await redis.set(marker, KEY_LAYOUT);
  return result;
}
