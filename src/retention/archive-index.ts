import type { Redis } from '../shared/redis.js';
import type { Campaign } from '../campaigns/campaign.js';

/** Where an archived campaign went, kept in Redis (a few hundred bytes a campaign). */
export interface ArchiveInfo {
  /** File name inside `retention.archiveDir`. */
  file: string;
  devices: number;
  sha256: string;
  bytes: number;
  archivedAt: number;
  /**
   * `deleting`: the archive is written and verified, the Redis records are being removed (a crash
   * here is finished by the next run); `done`: nothing of the campaign is left in Redis.
   */
  phase: 'deleting' | 'done';
}

/** A campaign read from its archive: the record as it was at archiving time, plus where it is. */
export interface ArchivedCampaign extends Campaign {
  archived: ArchiveInfo;
}

interface IndexEntry {
  campaign: Campaign;
  archived: ArchiveInfo;
}

/** The keys retention owns (docs/design.md "Queue, jobs, keys"). */
export function retentionKeys(prefix: string) {
  return {
    /** hash: campaignId -> JSON { campaign, archived } of every archived campaign */
    archives: `${prefix}:archives`,
    /** hash: campaignId -> ms when retention first saw it cancelled (cancel records no time) */
    ended: `${prefix}:retention:ended`,
    /** string: holder of the sweep lock (one archiving process at a time) */
    lock: `${prefix}:lock:retention`,
  };
}

/** Index entries (a few hundred bytes each) per HSCAN. */
const INDEX_SCAN_COUNT = 100;

function toArchived(json: string): ArchivedCampaign {
  const entry = JSON.parse(json) as IndexEntry;
  return { ...entry.campaign, archived: entry.archived };
}

/** Reads and writes the archive index. */
export function createArchiveIndex(redis: Redis, prefix: string) {
  const keys = retentionKeys(prefix);
  return {
    async get(campaignId: string): Promise<ArchivedCampaign | null> {
      const json = await redis.hget(keys.archives, campaignId);
      return json === null ? null : toArchived(json);
    },
    /**
     * Newest archive first. The index only grows (a weekly sweep adds 52 entries a year), so it
     * is read by HSCAN in short batches rather than one HGETALL that grows with it.
     */
    async list(): Promise<ArchivedCampaign[]> {
      const all: ArchivedCampaign[] = [];
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(keys.archives, cursor, 'COUNT', INDEX_SCAN_COUNT);
        cursor = next;
        for (let i = 1; i < flat.length; i += 2) all.push(toArchived(flat[i] as string));
      } while (cursor !== '0');
      // HSCAN may return an entry twice while the hash is resized: one per campaign id.
      const unique = new Map(all.map((c) => [c.id, c]));
      return [...unique.values()].sort((a, b) => b.createdAt - a.createdAt);
    },
    /**
     * Records the archive, then takes the campaign out of the live list: from here on every
     * reader goes to the archive, while the records are removed behind it. Two steps, not MULTI
     * (the keys are in two Redis Cluster slots); in between a campaign is in both lists, which
     * readers already merge by id.
     */
    async markDeleting(campaign: Campaign, archived: ArchiveInfo, campaignIndexKey: string) {
      const entry: IndexEntry = { campaign, archived };
      await redis.hset(keys.archives, campaign.id, JSON.stringify(entry));
      await redis.zrem(campaignIndexKey, campaign.id);
    },
    async markDone(campaign: ArchivedCampaign) {
      const { archived, ...plain } = campaign;
      const entry: IndexEntry = { campaign: plain, archived: { ...archived, phase: 'done' } };
      await redis.hset(keys.archives, campaign.id, JSON.stringify(entry));
      await redis.hdel(keys.ended, campaign.id);
    },
    /** When a cancelled campaign ended, as far as retention knows; null before its first look. */
    async seenEndedAt(campaignId: string): Promise<number | null> {
      const at = await redis.hget(keys.ended, campaignId);
      return at === null ? null : Number(at);
    },
    /** When a cancelled campaign ended: the first time retention saw it cancelled (set once). */
    async endedAt(campaignId: string, now: number): Promise<number> {
      await redis.hsetnx(keys.ended, campaignId, String(now));
      return Number(await redis.hget(keys.ended, campaignId));
    },
  };
}

export type ArchiveIndex = ReturnType<typeof createArchiveIndex>;
