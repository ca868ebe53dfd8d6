import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import { threatsFoundEvent } from '../webhooks/source-events.js';
import { createWebhookStore } from '../webhooks/webhook-store.js';
import type { GraphClient } from '../hunting/graph-client.js';
import type { VerifyDeps } from '../hunting/verify-campaign.js';

/**
 * What `verifyCampaign` needs, from the configuration: chunk size, grace period, the lifecycle
 * store, and `campaign.threats-found` for each device with a detection (one event per device:
 * its id names campaign and device, and the webhook store remembers ids, so a second run or a
 * second process sends nothing). A failed emit is logged, never fails the run: the next run
 * emits it again.
 */
export function verifyDepsFromConfig(
  config: Config,
  parts: {
    redis: Redis;
    store: VerifyDeps['store'] & Pick<CampaignStore, 'getCampaign'>;
    graph: Pick<GraphClient, 'runHuntingQuery'>;
    clock: Clock;
    log: Logger;
  },
): VerifyDeps {
  const webhooks = createWebhookStore(parts.redis, config.redis.prefix);
  return {
    ...parts,
    lifecycle: createLifecycleStore(parts.redis, config.redis.prefix),
    chunkSize: config.hunting.chunkSize,
    graceMs: config.verify.findingsGrace,
    onThreats: async (campaign, found) => {
      for (const { machineId, threats } of found) {
        await webhooks
          .emit(threatsFoundEvent(campaign, machineId, threats, parts.clock.now()))
          .catch((error: unknown) => {
            parts.log.warn(
              { campaignId: campaign.id, machineId, reason: String(error) },
              'campaign.threats-found not recorded',
            );
          });
      }
    },
  };
}
