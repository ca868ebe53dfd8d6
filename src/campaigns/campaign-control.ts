import { SCAN_JOB_NAME, scanJobId } from '../scan/scan-job.js';
import type { ScanQueue } from '../scan/scan-queue.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { CampaignState, DeviceRecord } from './campaign.js';
import { UnknownCampaignError } from './errors.js';
import type { RedisCampaignStore } from './redis-campaign-store.js';

const BATCH = 1_000;

export interface ControlResult {
  campaignId: string;
  previous: CampaignState;
  state: CampaignState;
  /** Devices moved to `cancelled` (cancel). */
  devicesCancelled: number;
  /** Waiting or delayed jobs taken out of the queue (pause, cancel); active ones finish. */
  jobsRemoved: number;
  /** Jobs handed back to the queue (resume), existing ones included: BullMQ keeps one per id. */
  jobsSubmitted: number;
}

export interface CampaignControl {
  pause(campaignId: string): Promise<ControlResult>;
  resume(campaignId: string): Promise<ControlResult>;
  cancel(campaignId: string): Promise<ControlResult>;
  /** The dashboard's entry point: `running` resumes, `paused` pauses, `cancelled` cancels. */
  setState(campaignId: string, state: 'running' | 'paused' | 'cancelled'): Promise<ControlResult>;
}

/**
 * Pause, resume and cancel. The campaign store is the record and the queue only a means, so:
 * - pause: state `paused` first (a worker that takes one of its jobs now sees it and puts the job
 *   back without calling), then the waiting/delayed jobs of its queued and deferred devices are
 *   removed, so a paused campaign costs Redis its store entries only. Devices keep their state.
 * - resume: jobs for every queued/deferred device are submitted again under their deterministic
 *   ids (deferred ones delayed to their `deferredUntil`), and only then the state becomes
 *   `running`. A crash in between leaves the campaign paused, never running with devices that
 *   have no job; running `resume` again (also on a running campaign) submits what is missing.
 * - cancel: state `cancelled`, then queued/deferred devices become `cancelled` in batches and
 *   their jobs are removed. Active jobs finish; a call already sent is still recorded. Running
 *   `cancel` again sweeps again. Finished campaigns are left as they are.
 */
export function createCampaignControl(deps: {
  store: RedisCampaignStore;
  queue: ScanQueue;
  clock?: Clock;
}): CampaignControl {
  const { store, queue } = deps;
  const clock = deps.clock ?? systemClock;

  /** Every queued or deferred device, a batch at a time. */
  async function* waitingBatches(campaignId: string): AsyncIterable<DeviceRecord[]> {
    let batch: DeviceRecord[] = [];
    for await (const device of store.iterateDevices(campaignId)) {
      if (device.state !== 'queued' && device.state !== 'deferred') continue;
      batch.push(device);
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  const removeJobs = async (campaignId: string, machineIds: readonly string[]) => {
    const codes = await Promise.all(
      machineIds.map((id) => queue.remove(scanJobId(campaignId, id), { removeChildren: false })),
    );
    return codes.filter((code) => code === 1).length;
  };

  const change = async (campaignId: string, state: CampaignState) => {
    const changed = await store.changeCampaignState(campaignId, state);
    if (!changed) throw new UnknownCampaignError(campaignId);
    return { campaignId, ...changed, devicesCancelled: 0, jobsRemoved: 0, jobsSubmitted: 0 };
  };

  const control: CampaignControl = {
    async pause(campaignId) {
      const result = await change(campaignId, 'paused');
      if (result.state !== 'paused') return result;
      for await (const batch of waitingBatches(campaignId)) {
        result.jobsRemoved += await removeJobs(
          campaignId,
          batch.map((d) => d.machineId),
        );
      }
      return result;
    },

    async resume(campaignId) {
      const campaign = await store.getCampaign(campaignId);
      if (!campaign) throw new UnknownCampaignError(campaignId);
      if (campaign.state === 'cancelled' || campaign.state === 'finished') {
        return { ...(await change(campaignId, campaign.state)) };
      }
      let submitted = 0;
      for await (const batch of waitingBatches(campaignId)) {
        const now = clock.now();
        await queue.addBulk(
          batch.map((d) => ({
            name: SCAN_JOB_NAME,
            data: {},
            opts: {
              jobId: scanJobId(campaignId, d.machineId),
              delay: d.state === 'deferred' ? Math.max(0, (d.deferredUntil ?? now) - now) : 0,
            },
          })),
        );
        submitted += batch.length;
      }
      const result = await change(campaignId, 'running');
      result.jobsSubmitted = submitted;
      return result;
    },

    async cancel(campaignId) {
      const result = await change(campaignId, 'cancelled');
      if (result.state !== 'cancelled') return result;
      for await (const batch of waitingBatches(campaignId)) {
        const moved = await store.cancelWaitingDevices(
          campaignId,
          batch.map((d) => d.machineId),
        );
        result.devicesCancelled += moved.length;
        result.jobsRemoved += await removeJobs(campaignId, moved);
      }
      return result;
    },

    setState(campaignId, state) {
      if (state === 'paused') return control.pause(campaignId);
      if (state === 'cancelled') return control.cancel(campaignId);
      return control.resume(campaignId);
    },
  };
  return control;
}
