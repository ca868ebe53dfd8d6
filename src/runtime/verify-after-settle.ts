import type { Runtime } from './build-runtime.js';
import { tenantConfigOf } from '../tenants/tenant-registry.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import type { GraphClient } from '../hunting/graph-client.js';
import { graphClientFromConfig } from './hunting-from-config.js';
import { verifyCampaign } from '../hunting/verify-campaign.js';

/**
 * The tracker's after-settle step when `verify.enabled`: verifies the campaign once its actions
 * are all terminal, with the Graph client of the campaign's tenant (built on first use). The
 * events of the last scans may still be on their way then: `fleetscan verify` can be run again
 * later and replaces the results.
 */
export function verifyAfterSettle(
  runtime: Pick<Runtime, 'config' | 'redis' | 'store' | 'clock' | 'log'>,
): ((campaignId: string) => Promise<void>) | undefined {
  if (!runtime.config.verify.enabled) return undefined;
  // One Graph client per tenant: each campaign's devices report their scans in its own tenant.
  const graphs = new Map<string, GraphClient>();
  const graphOf = (tenant: string): GraphClient => {
    let graph = graphs.get(tenant);
    if (!graph) {
      const config = tenantConfigOf(runtime.config, tenant);
      graph = graphClientFromConfig(config, runtime.redis, runtime.log.child({ tenant }));
      graphs.set(tenant, graph);
    }
    return graph;
  };
  return async (campaignId) => {
    const campaign = await runtime.store.getCampaign(campaignId);
    if (!campaign) return; // archived or deleted meanwhile: nothing to prove
    const graph = graphOf(campaign.tenant);
    await verifyCampaign(
      {
        store: runtime.store,
        lifecycle: createLifecycleStore(runtime.redis, runtime.config.redis.prefix),
        graph,
        clock: runtime.clock,
        log: runtime.log.child({ component: 'verify', campaignId }),
        chunkSize: runtime.config.hunting.chunkSize,
      },
      campaignId,
    );
  };
}
