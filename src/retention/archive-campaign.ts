import { basename, join } from 'node:path';
import type { Redis } from '../shared/redis.js';
import type { Campaign } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import { campaignIndexKey } from '../campaigns/campaign-keys.js';
import { lifecycleKey } from '../tracking/lifecycle-store.js';
import { archiveFileName } from './archive-format.js';
import type { ArchiveIndex, ArchivedCampaign } from './archive-index.js';
import { deleteCampaignKeys } from './delete-campaign-keys.js';
import { verifyArchive } from './read-archive.js';
import { isArchivable } from './retention-verdict.js';
import { writeArchive } from './write-archive.js';
import type { FileModes } from '../shared/file-modes.js';

export interface ArchiverDeps {
  redis: Redis;
  prefix: string;
  store: Pick<CampaignStore, 'getCampaign' | 'iterateDevices'>;
  index: ArchiveIndex;
  archiveDir: string;
  /** Permissions of the archive and its directory (default 0600 / 0700). */
  fileModes?: FileModes;
  /** Keys per SCAN when looking for a campaign's other keys. */
  scanBatch: number;
  now: () => number;
  heartbeat?: () => Promise<void>;
  /** Test seams: a crash injected here must leave a state the next run can finish. */
  faults?: {
    afterWrite?: () => Promise<void>;
    afterMarked?: () => Promise<void>;
  };
}

export type ArchiveOutcome =
  | { outcome: 'archived' | 'resumed'; campaign: ArchivedCampaign; removed: number }
  | { outcome: 'already-archived'; campaign: ArchivedCampaign; removed: 0 };

/** A campaign that cannot be archived now (running, paused, unknown, or changing under us). */
export class NotArchivableError extends Error {
  override name = 'NotArchivableError';
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

/**
 * Archives one ended campaign and removes it from Redis; the one code path of `fleetscan archive`,
 * `fleetscan prune` and the automatic sweep. Steps, each safe to repeat:
 *   1. write + fsync + verify + rename the archive (the Redis records are untouched);
 *   2. in one MULTI: record it in the archive index as `deleting`, drop it from the live list;
 *   3. remove the records in small batches; 4. mark the index entry `done`.
 * A crash before 2 is redone from scratch (the rename replaces the file atomically); a crash
 * after 2 is resumed at 3 once the archive on disk verifies again.
 */
export async function archiveCampaign(
  deps: ArchiverDeps,
  campaignId: string,
): Promise<ArchiveOutcome> {
  const known = await deps.index.get(campaignId);
  if (known?.archived.phase === 'done') {
    return { outcome: 'already-archived', campaign: known, removed: 0 };
  }
  if (known) {
    // Another run wrote it: check the file again before anything is deleted.
    await checkArchive(deps, known);
    return { outcome: 'resumed', campaign: known, removed: await finish(deps, known) };
  }

  const campaign = await deps.store.getCampaign(campaignId);
  if (!campaign) throw new NotArchivableError(`No campaign ${campaignId}`, false);
  if (!isArchivable(campaign)) {
    throw new NotArchivableError(
      `Campaign ${campaignId} is ${campaign.state}${campaign.intakeOpen === true ? ' (intake open)' : ''}: only finished or cancelled campaigns are archived`,
      false,
    );
  }
  const archivedAt = deps.now();
  // A small hash (a dozen fields) the records' removal takes with them: kept in the header.
  const lifecycle = await deps.redis.hgetall(lifecycleKey(deps.prefix, campaignId));
  const written = await writeArchive({
    dir: deps.archiveDir,
    campaign,
    devices: deps.store.iterateDevices(campaignId),
    archivedAt,
    lifecycle,
    ...(deps.heartbeat ? { heartbeat: deps.heartbeat } : {}),
    ...(deps.fileModes ? { modes: deps.fileModes } : {}),
  });
  // The counts are kept by the same scripts that write the records: a difference means a
  // device changed while it was written out (a late worker); archive again next time.
  const after = await deps.store.getCampaign(campaignId);
  if (!after || after.total !== written.devices || !sameCounts(after, campaign)) {
    throw new NotArchivableError(
      `Campaign ${campaignId} changed while it was archived (${String(written.devices)} devices written, ${String(after?.total ?? 0)} now); it will be archived again on the next run`,
      true,
    );
  }
  await deps.faults?.afterWrite?.();
  const archived: ArchivedCampaign = {
    ...campaign,
    archived: {
      file: basename(written.file),
      devices: written.devices,
      sha256: written.sha256,
      bytes: written.bytes,
      archivedAt,
      phase: 'deleting',
    },
  };
  const { archived: info, ...plain } = archived;
  await deps.index.markDeleting(plain, info, campaignIndexKey(deps.prefix));
  await deps.faults?.afterMarked?.();
  return { outcome: 'archived', campaign: archived, removed: await finish(deps, archived) };
}

function sameCounts(a: Campaign, b: Campaign): boolean {
  return JSON.stringify(a.counts) === JSON.stringify(b.counts) && a.state === b.state;
}

/** The archive on disk must still be the one the index recorded. */
async function checkArchive(deps: ArchiverDeps, campaign: ArchivedCampaign): Promise<void> {
  const file = join(deps.archiveDir, campaign.archived.file || archiveFileName(campaign.id));
  const verified = await verifyArchive(file);
  if (
    verified.sha256 !== campaign.archived.sha256 ||
    verified.devices !== campaign.archived.devices
  ) {
    throw new NotArchivableError(
      `Archive ${file} does not match the index (${String(verified.devices)} devices, ${verified.sha256}); the Redis records of ${campaign.id} are kept`,
      false,
    );
  }
}

/** Steps 3 and 4: the records go, then the index says so. */
async function finish(deps: ArchiverDeps, campaign: ArchivedCampaign): Promise<number> {
  const removed = await deleteCampaignKeys({
    redis: deps.redis,
    prefix: deps.prefix,
    campaignId: campaign.id,
    batch: deps.scanBatch,
    ...(deps.heartbeat ? { heartbeat: deps.heartbeat } : {}),
    ...(deps.fileModes ? { modes: deps.fileModes } : {}),
  });
  await deps.index.markDone(campaign);
  return removed;
}
