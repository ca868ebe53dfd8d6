import type { Campaign } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Clock } from '../shared/clock.js';

/**
 * Campaigns read by every job of a worker, kept for `ttlMs` so that thousands of jobs do not
 * each read the same hash, yet a cancel or pause takes effect within that time.
 */
export function createCampaignCache(
  store: Pick<CampaignStore, 'getCampaign'>,
  clock: Clock,
  ttlMs: number,
) {
  const entries = new Map<string, { campaign: Campaign | null; at: number }>();
  return {
    async get(campaignId: string): Promise<Campaign | null> {
      const now = clock.now();
      const hit = entries.get(campaignId);
      if (hit && now - hit.at < ttlMs) return hit.campaign;
      const campaign = await store.getCampaign(campaignId);
      // Bounded: campaigns are few, but a long-lived worker must not grow without end.
      if (entries.size > 1_000) entries.clear();
      entries.set(campaignId, { campaign, at: now });
      return campaign;
    },
    /** The next `get` reads the store (the campaign changed here, e.g. it was reconciled). */
    forget(campaignId: string): void {
      entries.delete(campaignId);
    },
  };
}
