import type { Redis } from '../shared/redis.js';
import type { Logger } from '../shared/logger.js';
import { luaScript } from '../lua/lua-scripts.js';
import { campaignIndexKey, campaignKeys } from '../campaigns/campaign-keys.js';

/**
 * The durable identity of the store (issue 9, "Redis loss is detected and said"). A worker writes
 * the epoch once (an id and its creation time); every process compares it with the one it saw
 * before. A vanished or changed epoch, or a campaign missing behind work still dispatched, means
 * Redis lost data: the first process that sees it writes a loss record, which `status`,
 * `/readyz`, `/metrics` and `doctor` show until an operator has re-run the lost campaigns and
 * acknowledged it (`fleetscan status --ack-store-loss`).
 */
export interface StoreEpoch {
  id: string;
  createdAt: number;
}

export interface StoreLoss {
  /** What was seen: `epoch vanished`, `epoch changed`, `campaign c-… missing`. */
  reason: string;
  detectedAt: number;
  /** `host:pid` of the process that saw it. */
  by: string;
  previousEpoch: string | null;
  /** Campaigns that process was working on: the ones to re-run. */
  campaigns: string[];
}

export type StoreVerdict =
  | { ok: true; epoch: StoreEpoch | null }
  | { ok: false; problem: string; fix: string; loss: StoreLoss };

export function storeIdentityKeys(prefix: string) {
  return {
    /** HASH id, createdAt: written once per store. */
    epoch: `${prefix}:store:epoch`,
    /** HASH reason, detectedAt, by, previousEpoch: the first detection of a loss. */
    lost: `${prefix}:store:lost`,
    /** SET of the campaign ids to re-run. */
    lostCampaigns: `${prefix}:store:lost:campaigns`,
  };
}

function toEpoch(id: string | null | undefined, createdAt: string | null | undefined) {
  return id ? { id, createdAt: Number(createdAt ?? 0) } : null;
}

export async function ensureStoreEpoch(redis: Redis, prefix: string): Promise<StoreEpoch> {
  const [id, createdAt] = (await luaScript('store-epoch-1').run(
    redis,
    [storeIdentityKeys(prefix).epoch],
    [],
  )) as [string, string];
  return { id, createdAt: Number(createdAt) };
}

export async function readStoreEpoch(redis: Redis, prefix: string): Promise<StoreEpoch | null> {
  const [id, createdAt] = await redis.hmget(storeIdentityKeys(prefix).epoch, 'id', 'createdAt');
  return toEpoch(id, createdAt);
}

export async function recordStoreLoss(redis: Redis, prefix: string, loss: StoreLoss) {
  const k = storeIdentityKeys(prefix);
  if (loss.campaigns.length > 0) await redis.sadd(k.lostCampaigns, ...loss.campaigns);
  await luaScript('store-loss-1').run(
    redis,
    [k.lost],
    [loss.reason, String(loss.detectedAt), loss.by, loss.previousEpoch ?? ''],
  );
}

export async function readStoreLoss(redis: Redis, prefix: string): Promise<StoreLoss | null> {
  const k = storeIdentityKeys(prefix);
  const [fields, campaigns] = await Promise.all([
    redis.hgetall(k.lost),
    redis.smembers(k.lostCampaigns),
  ]);
  if (!fields['reason']) return null;
  return {
    reason: fields['reason'],
    detectedAt: Number(fields['detectedAt'] ?? 0),
    by: fields['by'] ?? '',
    previousEpoch: fields['previousEpoch'] || null,
    campaigns: campaigns.sort(),
  };
}

/** `fleetscan status --ack-store-loss`: the operator has re-run what was lost. */
export async function clearStoreLoss(redis: Redis, prefix: string): Promise<boolean> {
  const k = storeIdentityKeys(prefix);
  // Record first, then its campaigns (two slots on a cluster): never campaigns without a record.
  const removed = await redis.del(k.lost);
  return (await redis.del(k.lostCampaigns)) + removed > 0;
}

/** What an operator does about a loss: one sentence, with the commands. */
export function lossFix(loss: Pick<StoreLoss, 'campaigns'>): string {
  const rerun =
    loss.campaigns.length > 0
      ? `re-run ${loss.campaigns.map((id) => `\`fleetscan scan <same devices> --campaign-id ${id}\``).join(', ')}`
      : 're-run each campaign that was running with `fleetscan scan <same devices> --campaign-id <id>` (ids in the worker logs and exports)';
  return `Check Redis persistence (appendonly, maxmemory-policy noeviction), ${rerun} (devices already scanned are looked up, not scanned again), then run \`fleetscan status --ack-store-loss\`.`;
}

/** The store's state as every process reads it: the loss record decides. */
export async function checkStoreIdentity(redis: Redis, prefix: string): Promise<StoreVerdict> {
  const [epoch, loss] = await Promise.all([
    readStoreEpoch(redis, prefix),
    readStoreLoss(redis, prefix),
  ]);
  if (!loss) return { ok: true, epoch };
  return {
    ok: false,
    problem: `Redis lost data: ${loss.reason} (seen ${new Date(loss.detectedAt).toISOString()} by ${loss.by}).`,
    fix: lossFix(loss),
    loss,
  };
}

export interface StoreWatch {
  /** Checks the epoch now (the interval does it too). */
  check(): Promise<void>;
  /** A device was dispatched for a campaign the store does not have. */
  missingCampaign(campaignId: string): void;
  lost(): boolean;
  stop(): void;
}

/**
 * A long-running process's watch on the store: remembers the epoch it saw and checks it every
 * `intervalMs`. `create`: this process writes the epoch when there is none (workers). One error
 * line per detection, saying what to do.
 */
export function startStoreWatch(
  redis: Redis,
  prefix: string,
  options: {
    create: boolean;
    intervalMs: number;
    by: string;
    log: Logger;
    now?: () => number;
    /** After a detection: e.g. ask every campaign still in the store to reconcile. */
    onLoss?: () => Promise<void>;
  },
): StoreWatch {
  const now = options.now ?? Date.now;
  let campaigns = new Set<string>();
  // The campaigns still running when the store was last intact: the ones to re-run after a loss.
  const noteRunning = async () => {
    const ids = await redis.zrevrange(campaignIndexKey(prefix), 0, 99);
    if (ids.length === 0) return;
    // Not one pipeline: on a Redis Cluster the campaigns live on different nodes (auto-pipelining
    // still batches these per node).
    const states = await Promise.all(
      ids.map((id) => redis.hget(campaignKeys(prefix, id).campaign, 'state')),
    );
    campaigns = new Set(ids.filter((_, i) => states[i] === 'running' || states[i] === 'paused'));
  };
  const reported = new Set<string>();
  let known: StoreEpoch | null = null;
  let lost = false;

  const detect = async (reason: string, previousEpoch: string | null) => {
    lost = true;
    const loss: StoreLoss = {
      reason,
      detectedAt: now(),
      by: options.by,
      previousEpoch,
      campaigns: [...campaigns],
    };
    await recordStoreLoss(redis, prefix, loss);
    options.log.error(
      { storeLost: reason, previousEpoch, campaigns: loss.campaigns },
      `Redis lost data (${reason}). ${lossFix(loss)}`,
    );
    await options.onLoss?.();
  };

  const check = async () => {
    const current = options.create
      ? await readStoreEpoch(redis, prefix).then((e) => e ?? ensureStoreEpoch(redis, prefix))
      : await readStoreEpoch(redis, prefix);
    const before = known;
    known = current;
    if (before && !current) await detect('the store epoch vanished', before.id);
    else if (before && current && current.id !== before.id) {
      // The epoch key was gone long enough for a worker to write a new one.
      await detect('the store epoch changed', before.id);
    } else await noteRunning();
  };

  const timer = setInterval(() => {
    check().catch((error: unknown) => {
      options.log.debug({ reason: String(error) }, 'store identity not checked');
    });
  }, options.intervalMs);
  timer.unref();

  return {
    check,
    missingCampaign(campaignId) {
      if (reported.has(campaignId)) return;
      reported.add(campaignId);
      campaigns.add(campaignId);
      detect(
        `campaign ${campaignId} is missing while its devices are still dispatched`,
        known?.id ?? null,
      ).catch((error: unknown) => {
        options.log.debug({ reason: String(error) }, 'store loss not recorded');
      });
    },
    lost: () => lost,
    stop: () => {
      clearInterval(timer);
    },
  };
}
