import type { CampaignMeta } from '../campaigns/campaign.js';
import { UnknownCampaignError } from '../campaigns/errors.js';
import { randomUUID } from 'node:crypto';
import { holdIntake } from '../campaigns/intake.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import type { Lanes } from '../lanes/lanes.js';

export interface EnqueueDevicesOptions {
  /** The lanes of the deployment; the campaign's tenant names its budget's lane. */
  lanes: Pick<Lanes, 'forTenant'>;
  store: Pick<
    RedisCampaignStore,
    | 'addDevicesDetailed'
    | 'openIntake'
    | 'renewIntake'
    | 'closeIntake'
    | 'getCampaign'
    | 'cancelWaitingDevices'
  >;
  campaign: string | Pick<CampaignMeta, 'id'>;
  /** Valid, lowercased machine ids in chunks (the sources in `producer/sources` yield these). */
  ids: AsyncIterable<readonly string[]>;
  /** Called after each chunk, for progress output. */
  onChunk?: (progress: EnqueueResult) => void;
}

export interface EnqueueResult {
  /** Devices new to the campaign. */
  accepted: number;
  /** Ids the campaign already had (a re-run, or the same id twice in the input). */
  duplicate: number;
  /** Devices put in the budget's lane (ones already there are not counted twice). */
  devicesQueued: number;
}

/** Thrown when devices are given to a campaign that was cancelled. */
export class CampaignCancelledError extends Error {
  override name = 'CampaignCancelledError';
}

/**
 * Records each chunk of devices in the campaign store, then puts every device of the chunk that
 * is still waiting (queued or deferred), new or not, in the lane of the campaign's budget.
 *
 * Crash safety: the store is written first, so a lane never holds a device without its record.
 * A crash after `addDevicesDetailed` and before the push leaves recorded devices out of the lane;
 * a re-run of the same command (`--campaign-id`) finds them as duplicates that still wait and
 * pushes them then. The push is idempotent (a device already ready, due or in progress stays
 * where it is), so nothing is doubled. This run's own intake stays open (the campaign cannot
 * finish) until every chunk went through; two runs on one campaign hold one intake each, so the
 * first to end cannot finish the campaign under the other (`campaigns/intake.ts`). A paused campaign's devices wait in the lane until `resume`.
 */
export async function enqueueDevices(options: EnqueueDevicesOptions): Promise<EnqueueResult> {
  const { store } = options;
  const campaignId = typeof options.campaign === 'string' ? options.campaign : options.campaign.id;
  const intake = await holdIntake(store, campaignId, randomUUID());
  try {
    return await enqueueInto(options, campaignId, intake.opened.state);
  } finally {
    await intake.release();
  }
}

async function enqueueInto(
  options: EnqueueDevicesOptions,
  campaignId: string,
  state: string,
): Promise<EnqueueResult> {
  const { store } = options;
  if (state === 'cancelled') {
    throw new CampaignCancelledError(`Campaign ${campaignId} was cancelled; start a new one`);
  }
  const meta = await store.getCampaign(campaignId);
  if (!meta) throw new UnknownCampaignError(campaignId);
  const lane = options.lanes.forTenant(meta.tenant);
  const result: EnqueueResult = { accepted: 0, duplicate: 0, devicesQueued: 0 };
  for await (const chunk of options.ids) {
    if (chunk.length === 0) continue;
    const { added, waiting } = await store.addDevicesDetailed(campaignId, chunk);
    result.accepted += added.length;
    result.duplicate += chunk.length - added.length;
    const campaign = await store.getCampaign(campaignId);
    if (campaign?.state === 'cancelled') {
      // Cancelled while we were adding: what we just added must not wait for ever.
      await store.cancelWaitingDevices(campaignId, added);
      throw new CampaignCancelledError(
        `Campaign ${campaignId} was cancelled while devices were added`,
      );
    }
    if (waiting.length > 0) {
      result.devicesQueued += await lane.push(
        {
          id: campaignId,
          priority: campaign?.priority ?? meta.priority,
          paused: campaign?.state === 'paused',
        },
        waiting.map((machineId) => ({ machineId })),
      );
    }
    options.onChunk?.({ ...result });
  }
  return result;
}
