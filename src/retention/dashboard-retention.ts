import type { Redis } from '../shared/redis.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import { createCampaignReader, type ArchiveSource } from './campaign-reader.js';
import { memoryHeadroom, type MemorySettings } from './memory-headroom.js';

/**
 * What the dashboard shows of retention: the memory alarm and archived campaigns on the overview,
 * the memory gauges in `/metrics`, and exports that read an archived campaign from its file.
 */
export function retentionViews(
  store: CampaignStore,
  redis: Pick<Redis, 'info'>,
  deps: { archives: ArchiveSource; memory: MemorySettings } | undefined,
) {
  if (!deps) return null;
  const { archives, memory } = deps;
  const reader = createCampaignReader(store, archives);
  const exportStore: CampaignStore = {
    ...store,
    getCampaign: (id) => reader.getCampaign(id),
    iterateDevices: (id) => reader.iterateDevices(id),
  };
  return {
    overview: {
      memory: () => memoryHeadroom(redis, memory),
      archived: () => archives.listCampaigns(),
    },
    metrics: async () => ({
      memory: await memoryHeadroom(redis, memory),
      archivedCampaigns: (await archives.listCampaigns()).length,
    }),
    exportStore,
  };
}
