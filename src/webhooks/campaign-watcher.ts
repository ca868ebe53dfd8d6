import type { Redis } from '../shared/redis.js';
import { createLeaseLock } from '../lua/lease-lock.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import { campaignIndexKey, campaignKeys } from '../campaigns/campaign-keys.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { campaignEvents, NOTHING_SEEN, type SeenCampaign } from './campaign-events.js';
import { kickDrains, type WebhookQueue } from './webhook-queue.js';
import type { WebhookStore } from './webhook-store.js';

export interface CampaignWatcherDeps {
  redis: Redis;
  prefix: string;
  store: Pick<CampaignStore, 'getCampaign'>;
  webhooks: WebhookStore;
  queue: WebhookQueue;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}

export interface CampaignWatcher {
  /** One pass (tests call it directly); false when another process holds the watch. */
  tick(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The one place campaign events come from: every `intervalMs` it compares each campaign's state
 * and failure count with what it announced before (`${prefix}:webhooks:seen`), emits what is new
 * (`campaignEvents`) and makes sure every outbox with a backlog has a drain job. One process at a
 * time holds the watch (a Redis lock); the others stand by. It only reads the campaign store, so
 * a receiver that is down costs the scans nothing.
 */
export function startCampaignWatcher(
  deps: CampaignWatcherDeps,
  options: { autoStart?: boolean } = {},
): CampaignWatcher {
  const { redis, clock, log } = deps;
  const seenKey = `${deps.prefix}:webhooks:seen`;
  const lockKey = `${deps.prefix}:webhooks:watcher`;
  // One watcher at a time: the lease lock, taken or extended (in one step) on every pass.
  const watch = createLeaseLock(redis, {
    key: lockKey,
    leaseMs: Math.max(3 * deps.intervalMs, 1_000),
  });
  const holdLock = async (): Promise<boolean> => (await watch.take()) !== null;

  /** Cheap first look: state, finishedAt and failed count of every campaign in one round trip. */
  const changedCampaigns = async (): Promise<{ id: string; seen: SeenCampaign }[]> => {
    const ids = await redis.zrange(campaignIndexKey(deps.prefix), 0, -1);
    if (ids.length === 0) return [];
    const seenJson = await redis.hmget(seenKey, ...ids);
    // Not one pipeline: on a Redis Cluster campaigns live on different nodes; auto-pipelining
    // still sends these in one round trip per node.
    const replies = await Promise.all(
      ids.map(async (id) => {
        const keys = campaignKeys(deps.prefix, id);
        return Promise.all([
          redis.hmget(keys.campaign, 'state', 'finishedAt'),
          redis.hget(keys.counts, 'failed'),
        ]);
      }),
    );
    return ids.flatMap((id, i) => {
      const [[state, finishedAt] = [], failedCount] = replies[i] ?? [];
      const failed = Number(failedCount ?? 0);
      const json = seenJson[i];
      const seen = json ? (JSON.parse(json) as SeenCampaign) : NOTHING_SEEN;
      const finished = state === 'finished' ? Number(finishedAt) : null;
      const changed = failed > seen.failed || (finished !== null && finished !== seen.finishedAt);
      return changed || failed < seen.failed ? [{ id, seen }] : [];
    });
  };

  const tick = async (): Promise<boolean> => {
    if (!(await holdLock())) return false;
    for (const { id, seen } of await changedCampaigns()) {
      const campaign = await deps.store.getCampaign(id);
      if (!campaign) continue;
      const next = campaignEvents(campaign, seen, clock.now());
      for (const event of next.events) {
        const to = await deps.webhooks.emit(event);
        if (to.length > 0) log.info({ eventId: event.id, subscriptions: to }, 'webhook event');
      }
      await redis.hset(seenKey, id, JSON.stringify(next.seen));
    }
    await kickDrains(deps.queue, await deps.webhooks.withBacklog());
    return true;
  };

  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) => {
        log.warn({ reason: (error as Error).message }, 'campaign watcher pass failed');
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, deps.intervalMs);
      });
  };
  if (options.autoStart !== false) loop();
  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
