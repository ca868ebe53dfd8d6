import type { Runtime } from '../runtime/build-runtime.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import type { GraphClient } from './graph-client.js';
import { graphClientFromConfig } from './hunting-from-config.js';
import { verifyCampaign } from './verify-campaign.js';

/**
 * The tracker's after-settle step when `verify.enabled`: verifies the campaign once its actions
 * are all terminal (the Graph client is built on first use). The events of the last scans may
 * still be on their way then: `fleetscan verify` can be run again later and replaces the results.
 */
export function verifyAfterSettle(
  runtime: Pick<Runtime, 'config' | 'redis' | 'store' | 'clock' | 'log'>,
): ((campaignId: string) => Promise<void>) | undefined {
  if (!runtime.config.verify.enabled) return undefined;
  let graph: GraphClient | undefined;
  return async (campaignId) => {
    graph ??= graphClientFromConfig(runtime.config, runtime.redis, runtime.log);
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
