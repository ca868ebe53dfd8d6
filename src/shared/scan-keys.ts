import { clusterMasters, type Redis } from './redis.js';

/**
 * SCAN over the whole keyspace, page by page: on a Redis Cluster every master holds part of
 * it (a Cluster connection would SCAN one node only), so each master is walked in turn. The
 * page is handed over with the node that holds it, so a multi-key UNLINK never spans slots of
 * different nodes.
 */
export async function scanKeys(
  redis: Redis,
  pattern: string,
  count: number,
  onPage: (keys: string[], node: Redis) => Promise<void>,
): Promise<void> {
  for (const node of clusterMasters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      await onPage(keys, node);
    } while (cursor !== '0');
  }
}
