import type { CampaignMeta } from '../campaigns/campaign.js';
import { UnknownCampaignError } from '../campaigns/errors.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import { SCAN_JOB_NAME, scanJobId } from '../scan/scan-job.js';
import type { ScanQueue } from '../scan/scan-queue.js';

export interface EnqueueDevicesOptions {
  queue: ScanQueue;
  store: Pick<
    RedisCampaignStore,
    'addDevicesDetailed' | 'openIntake' | 'closeIntake' | 'getCampaign' | 'cancelWaitingDevices'
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
  /** Jobs handed to BullMQ, existing ones included (BullMQ ignores a job id it already has). */
  jobsSubmitted: number;
}

/** Thrown when devices are given to a campaign that was cancelled. */
export class CampaignCancelledError extends Error {
  override name = 'CampaignCancelledError';
}

/**
 * Records each chunk of devices in the campaign store, then gives a job to every device of the
 * chunk that is still waiting (queued or deferred), new or not.
 *
 * Crash safety: the store is written first, so a job never exists without its device record.
 * A crash after `addDevicesDetailed` and before `addBulk` leaves recorded devices without jobs;
 * a re-run of the same command (`--campaign-id`) finds them as duplicates that still wait and
 * submits their jobs then. Job ids are deterministic (`${campaignId}.${machineId}`), so a job
 * that already exists (waiting, delayed or active) is not added twice, and a device whose job
 * ended is no longer waiting and gets none. The intake stays open (the campaign cannot finish)
 * until every chunk went through, so a crash never makes a half-enqueued campaign look done.
 * A paused campaign gets its records only: `resume` submits the jobs.
 */
export async function enqueueDevices(options: EnqueueDevicesOptions): Promise<EnqueueResult> {
  const { queue, store } = options;
  const campaignId = typeof options.campaign === 'string' ? options.campaign : options.campaign.id;
  const opened = await store.openIntake(campaignId);
  if (!opened) throw new UnknownCampaignError(campaignId);
  if (opened.state === 'cancelled') {
    throw new CampaignCancelledError(`Campaign ${campaignId} was cancelled; start a new one`);
  }
  const result: EnqueueResult = { accepted: 0, duplicate: 0, jobsSubmitted: 0 };
  for await (const chunk of options.ids) {
    if (chunk.length === 0) continue;
    const { added, waiting } = await store.addDevicesDetailed(campaignId, chunk);
    result.accepted += added.length;
    result.duplicate += chunk.length - added.length;
    const state = (await store.getCampaign(campaignId))?.state;
    if (state === 'cancelled') {
      // Cancelled while we were adding: what we just added must not wait for ever.
      await store.cancelWaitingDevices(campaignId, added);
      throw new CampaignCancelledError(
        `Campaign ${campaignId} was cancelled while devices were added`,
      );
    }
    if (waiting.length > 0 && state !== 'paused') {
      await queue.addBulk(
        waiting.map((machineId) => ({
          name: SCAN_JOB_NAME,
          data: {},
          opts: { jobId: scanJobId(campaignId, machineId) },
        })),
      );
      result.jobsSubmitted += waiting.length;
    }
    options.onChunk?.({ ...result });
  }
  await store.closeIntake(campaignId);
  return result;
}
