import type { Runtime } from './build-runtime.js';
import { graphClientsByTenant } from './hunting-from-config.js';
import { verifyCampaign } from '../hunting/verify-campaign.js';
import { verifyDepsFromConfig } from './verify-from-config.js';

/**
 * The tracker's after-settle step when `verify.enabled`: verifies the campaign once its actions
 * are all terminal, with the Graph client of the campaign's tenant (built on first use), and
 * again `verify.findingsGrace` later, when the last scans' events and detections have had the
 * grace period to arrive (a timer of this process: a restart meanwhile skips the second look).
 * `fleetscan verify` can be run again at any time and replaces the results.
 */
export function verifyAfterSettle(
  runtime: Pick<Runtime, 'config' | 'redis' | 'store' | 'clock' | 'log'>,
): ((campaignId: string) => Promise<void>) | undefined {
  if (!runtime.config.verify.enabled) return undefined;
  // One Graph client per tenant: each campaign's devices report their scans in its own tenant.
  const graphOf = graphClientsByTenant(runtime);
  const verify = async (campaignId: string): Promise<void> => {
    const campaign = await runtime.store.getCampaign(campaignId);
    if (!campaign) return; // archived or deleted meanwhile: nothing to prove
    const deps = verifyDepsFromConfig(runtime.config, {
      redis: runtime.redis,
      store: runtime.store,
      graph: graphOf(campaign.tenant),
      clock: runtime.clock,
      log: runtime.log.child({ component: 'verify', campaignId }),
    });
    await verifyCampaign(deps, campaignId);
  };
  return async (campaignId) => {
    await verify(campaignId);
    const again = setTimeout(() => {
      verify(campaignId).catch((error: unknown) => {
        runtime.log.warn(
          { campaignId, reason: String(error) },
          'second verify after the grace failed',
        );
      });
    }, runtime.config.verify.findingsGrace);
    again.unref(); // never keeps a stopping worker alive
  };
}
