import { Queue } from 'bullmq';
import type { Redis } from '../shared/redis.js';

/** The queue of webhook drains: apart from `scans`, so a dead receiver never touches a scan. */
export const WEBHOOK_QUEUE_NAME = 'webhooks';

export interface DrainJobData {
  subscriptionId: string;
}

export type WebhookQueue = Queue<DrainJobData>;

/** One drain job per subscription at a time: its id is fixed, BullMQ keeps one job per id. */
export function drainJobId(subscriptionId: string): string {
  return `drain.${subscriptionId}`;
}

/**
 * BullMQ's key prefix. A queue's Lua scripts touch many keys (`<prefix>:webhooks:*`); on a Redis
 * Cluster they must share one slot, so the prefix becomes a hash tag there (`{fleetscan}`). A
 * single server keeps the plain prefix, so existing queues stay where they are.
 */
export function bullmqPrefix(prefix: string, cluster: boolean): string {
  return cluster ? `{${prefix}}` : prefix;
}

export function createWebhookQueue(connection: Redis, prefix: string): WebhookQueue {
  return new Queue<DrainJobData>(WEBHOOK_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    streams: { events: { maxLen: 1_000 } },
  });
}

/** Makes sure each subscription's outbox has a drain job (a no-op for one that has). */
export async function kickDrains(
  queue: WebhookQueue,
  subscriptionIds: readonly string[],
): Promise<void> {
  if (subscriptionIds.length === 0) return;
  await queue.addBulk(
    subscriptionIds.map((subscriptionId) => ({
      name: 'drain',
      data: { subscriptionId },
      opts: { jobId: drainJobId(subscriptionId) },
    })),
  );
}
