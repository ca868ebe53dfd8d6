import { resolve } from 'node:path';
import type { Redis } from '../shared/redis.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { PruneDeps } from '../retention/prune-campaigns.js';
import { createArchiveIndex } from '../retention/archive-index.js';
import type { Campaign } from '../campaigns/campaign.js';
import { lifecycleKey } from '../tracking/lifecycle-store.js';
import type { ArchivedCampaign } from '../retention/archive-index.js';
import {
  createArchiveSource,
  createCampaignReader,
  isArchived,
} from '../retention/campaign-reader.js';
import type { MemorySettings } from '../retention/memory-headroom.js';
import { createRetentionLock } from '../retention/retention-lock.js';
import { retentionKeys } from '../retention/archive-index.js';
import { startRetentionSweeper, type RetentionSweeper } from '../retention/retention-sweeper.js';
import type { Logger } from '../shared/logger.js';
import { auditSink, workerActor } from '../audit/record-audit.js';
import { DEFAULT_FILE_MODES, type FileModes } from '../shared/file-modes.js';

/** The retention parts of one configuration, wired to a Redis connection and the store. */
export function retentionFromConfig(
  config: Pick<Config, 'redis' | 'retention'> & Partial<Pick<Config, 'files'>>,
  redis: Redis,
  store: PruneDeps['store'] & Pick<CampaignStore, 'getCampaign' | 'iterateDevices'>,
  now: () => number = Date.now,
) {
  const prefix = config.redis.prefix;
  const archiveDir = resolve(config.retention.archiveDir);
  const index = createArchiveIndex(redis, prefix);
  const archives = createArchiveSource(index, archiveDir);
  const memory: MemorySettings = { ...config.retention.memory };
  return {
    archiveDir,
    index,
    archives,
    reader: createCampaignReader(store, archives),
    /** The campaign's lifecycle hash: from Redis while live, from its archive's header after. */
    lifecycleFields: async (campaign: Campaign | ArchivedCampaign) =>
      isArchived(campaign)
        ? await archives.lifecycleFields(campaign)
        : await redis.hgetall(lifecycleKey(prefix, campaign.id)),
    memory,
    lock: () => createRetentionLock(redis, retentionKeys(prefix).lock),
    pruneDeps: (): PruneDeps => ({
      redis,
      prefix,
      store,
      index,
      archiveDir,
      fileModes: fileModesOf(config),
      scanBatch: config.retention.scanBatch,
      now,
    }),
  };
}

export type Retention = ReturnType<typeof retentionFromConfig>;

/** The automatic sweep of a worker process, or null when `retention.sweep` is off. */
export function startSweeperFromConfig(
  config: Pick<Config, 'redis' | 'retention'>,
  redis: Redis,
  store: PruneDeps['store'],
  log: Logger,
): RetentionSweeper | null {
  if (!config.retention.sweep) return null;
  const retention = retentionFromConfig(config, redis, store);
  const sweepLog = log.child({ component: 'retention' });
  return startRetentionSweeper({
    ...retention.pruneDeps(),
    audit: auditSink(redis, config.redis.prefix, workerActor(), {
      onUnrecorded: (error) => {
        sweepLog.warn({ reason: String(error) }, 'audit record not written');
      },
    }),
    lock: retention.lock(),
    keepMs: config.retention.keep,
    intervalMs: config.retention.sweepInterval,
    log: sweepLog,
  });
}

/** The dashboard's retention deps (`DashboardDeps.retention`) of a configuration. */
export function dashboardRetention(
  config: Pick<Config, 'redis' | 'retention'>,
  redis: Redis,
  store: PruneDeps['store'],
) {
  const retention = retentionFromConfig(config, redis, store);
  return { archives: retention.archives, memory: retention.memory };
}

/** `files.mode` / `files.dirMode` as the writers take them. */
export function fileModesOf(config: Partial<Pick<Config, 'files'>>): FileModes {
  return config.files
    ? { file: config.files.mode, dir: config.files.dirMode }
    : { ...DEFAULT_FILE_MODES };
}
