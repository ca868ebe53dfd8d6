import { join } from 'node:path';
import type { Campaign, DeviceRecord } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { ArchiveIndex, ArchivedCampaign } from './archive-index.js';
import { readArchiveDevices, readArchiveHeader } from './read-archive.js';

/**
 * Read-only access to campaigns, live or archived, with the store's shape: `export`, `status`,
 * `report` and the dashboard read through it and need not know where a campaign lives.
 */
export interface CampaignReader {
  /** An archived campaign comes back as an `ArchivedCampaign` (with `archived`). */
  getCampaign(campaignId: string): Promise<Campaign | ArchivedCampaign | null>;
  /** Every device, in the order the store (or, archived, the archive) holds them. */
  iterateDevices(campaignId: string): AsyncIterable<DeviceRecord>;
  /** Archived campaigns only, newest first. */
  listArchived(): Promise<ArchivedCampaign[]>;
}

/** The campaign is in the archive index, but its file is not in `retention.archiveDir` here. */
export class ArchiveMissingError extends Error {
  override name = 'ArchiveMissingError';
  readonly retryable = false;
  constructor(campaignId: string, file: string) {
    super(
      `Campaign ${campaignId} is archived to ${file}, which is not here: run this where retention.archiveDir holds the archives`,
    );
  }
}

export function isArchived(campaign: Campaign): campaign is ArchivedCampaign {
  return 'archived' in campaign;
}

/** Archived campaigns alone: the index in Redis for the record, the files for the devices. */
export function createArchiveSource(index: ArchiveIndex, archiveDir: string) {
  const fileOf = (campaign: ArchivedCampaign) => join(archiveDir, campaign.archived.file);
  const missing = (campaign: ArchivedCampaign, error: unknown): unknown =>
    (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? new ArchiveMissingError(campaign.id, fileOf(campaign))
      : error;
  const devicesOf = async function* (campaign: ArchivedCampaign): AsyncIterable<DeviceRecord> {
    try {
      yield* readArchiveDevices(fileOf(campaign));
    } catch (error) {
      throw missing(campaign, error);
    }
  };
  return {
    getCampaign: (campaignId: string) => index.get(campaignId),
    listCampaigns: () => index.list(),
    async *iterateDevices(campaignId: string): AsyncIterable<DeviceRecord> {
      const campaign = await index.get(campaignId);
      if (!campaign) return;
      yield* devicesOf(campaign);
    },
    /** The lifecycle hash kept in the archive's header (empty when the archive predates it). */
    async lifecycleFields(campaign: ArchivedCampaign): Promise<Record<string, string>> {
      try {
        return (await readArchiveHeader(fileOf(campaign))).lifecycle ?? {};
      } catch (error) {
        throw missing(campaign, error);
      }
    },
  };
}

export type ArchiveSource = ReturnType<typeof createArchiveSource>;

/**
 * Live campaigns from the store, archived ones from the archive. The index wins: once a campaign
 * is marked there, its Redis records may be half removed, so they are never read again.
 */
export function createCampaignReader(
  store: Pick<CampaignStore, 'getCampaign' | 'iterateDevices'>,
  archives: ArchiveSource,
): CampaignReader {
  return {
    async getCampaign(campaignId) {
      return (await archives.getCampaign(campaignId)) ?? (await store.getCampaign(campaignId));
    },
    async *iterateDevices(campaignId) {
      if (await archives.getCampaign(campaignId)) yield* archives.iterateDevices(campaignId);
      else yield* store.iterateDevices(campaignId);
    },
    listArchived: () => archives.listCampaigns(),
  };
}
