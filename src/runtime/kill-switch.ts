import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import { createCampaignControl } from '../control/campaign-control.js';
import type { Runtime } from './build-runtime.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import { cancelCampaignActions, type CancelActionsSummary } from '../control/cancel-actions.js';

/**
 * The kill switch of a long-running process (dashboard, API): cancels the campaign and its own
 * pending actions in Defender. `origin` goes into the cancellation comment (who pressed it).
 * Each campaign's calls go through its own tenant's client, built on first use, so a process
 * without API credentials still starts.
 */
export function killSwitchFor(
  runtime: Runtime,
  origin: string,
): (campaignId: string) => Promise<CancelActionsSummary> {
  const lifecycle = createLifecycleStore(runtime.redis, runtime.config.redis.prefix);
  return async (campaignId) => {
    // The campaign's own tenant: its actions exist only there, under that tenant's cancel budget.
    const tenant = (await runtime.store.getCampaign(campaignId))?.tenant ?? DEFAULT_TENANT;
    return cancelCampaignActions(
      {
        store: runtime.store,
        control: createCampaignControl({ store: runtime.store, lanes: runtime.lanes }),
        client: runtime.tenants.get(tenant).client(),
        lifecycle,
        log: runtime.log.child({ component: 'kill-switch', campaignId }),
      },
      campaignId,
      `Cancelled from ${origin} [fleetscan:${campaignId}]`,
    );
  };
}
