import type { Lanes } from '../lanes/lanes.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Campaign, CampaignState, DeviceRecord, Priority } from '../campaigns/campaign.js';
import { UnknownCampaignError } from '../campaigns/errors.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';

const BATCH = 1_000;

export interface ControlResult {
  campaignId: string;
  previous: CampaignState;
  state: CampaignState;
  /** Devices moved to `cancelled` (cancel). */
  devicesCancelled: number;
  /** Waiting devices held in their lane (pause) or taken out of it (cancel); calls in flight finish. */
  devicesWithdrawn: number;
  /** Waiting devices handed back to the dispatchers (resume); ones already in line are not doubled. */
  devicesQueued: number;
  /** Deprecated: the BullMQ-era name of `devicesWithdrawn`, kept in JSON output until 1.0.0. */
  jobsRemoved: number;
  /** Deprecated: the BullMQ-era name of `devicesQueued`, kept in JSON output until 1.0.0. */
  jobsSubmitted: number;
}

export interface CampaignControl {
  pause(campaignId: string): Promise<ControlResult>;
  resume(campaignId: string): Promise<ControlResult>;
  cancel(campaignId: string): Promise<ControlResult>;
  /** Moves the campaign to another dispatch class; its devices keep their order. */
  setPriority(
    campaignId: string,
    priority: Priority,
  ): Promise<{ previous: Priority; priority: Priority }>;
  /** The dashboard's entry point: `running` resumes, `paused` pauses, `cancelled` cancels. */
  setState(campaignId: string, state: 'running' | 'paused' | 'cancelled'): Promise<ControlResult>;
}

/**
 * Pause, resume and cancel. The campaign store is the record and the lane only a means, so:
 * - pause: state `paused` first (a worker that is handed one of its devices now sees it and puts
 *   it back without calling), then the campaign leaves its budget's round-robin: dispatch skips
 *   it in O(1) and its devices keep their place in line. Devices keep their state.
 * - resume: every queued/deferred device is put in the lane again (idempotent: one already in
 *   line stays where it is; deferred ones due at their `deferredUntil`), the campaign rejoins the
 *   round-robin, and only then the state becomes `running`. A crash in between leaves it paused;
 *   running `resume` again (also on a running campaign) repairs what is missing.
 * - cancel: state `cancelled`, then queued/deferred devices become `cancelled` one HSCAN page
 *   per Lua call (`lua/cancel-sweep-2.lua`: linear, 200,000 devices in seconds) and the
 *   campaign's line is dropped. Calls in flight finish; a call already sent is still
 *   recorded. Running `cancel` again sweeps again. Finished campaigns are left as they are.
 */
export function createCampaignControl(deps: {
  store: RedisCampaignStore;
  lanes: Pick<Lanes, 'forTenant'>;
  clock?: Clock;
}): CampaignControl {
  const { store, lanes } = deps;
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

  const change = async (campaignId: string, state: CampaignState) => {
    const changed = await store.changeCampaignState(campaignId, state);
    if (!changed) throw new UnknownCampaignError(campaignId);
    return {
      campaignId,
      ...changed,
      devicesCancelled: 0,
      devicesWithdrawn: 0,
      devicesQueued: 0,
      jobsRemoved: 0,
      jobsSubmitted: 0,
    };
  };

  const waitingCount = (campaign: Campaign) => campaign.counts.queued + campaign.counts.deferred;

  const control: CampaignControl = {
    async pause(campaignId) {
      const campaign = await store.getCampaign(campaignId);
      if (!campaign) throw new UnknownCampaignError(campaignId);
      const result = await change(campaignId, 'paused');
      if (result.state !== 'paused') return result;
      await lanes.forTenant(campaign.tenant).setCampaign(campaignId, 'pause');
      result.devicesWithdrawn = waitingCount((await store.getCampaign(campaignId)) ?? campaign);
      result.jobsRemoved = result.devicesWithdrawn;
      return result;
    },

    async resume(campaignId) {
      const campaign = await store.getCampaign(campaignId);
      if (!campaign) throw new UnknownCampaignError(campaignId);
      if (campaign.state === 'cancelled' || campaign.state === 'finished') {
        return { ...(await change(campaignId, campaign.state)) };
      }
      const lane = lanes.forTenant(campaign.tenant);
      let submitted = 0;
      for await (const batch of waitingBatches(campaignId)) {
        const now = clock.now();
        await lane.push(
          { id: campaignId, priority: campaign.priority, paused: true },
          batch.map((d) => ({
            machineId: d.machineId,
            dueAt: d.state === 'deferred' && (d.deferredUntil ?? 0) > now ? d.deferredUntil : 0,
          })),
        );
        submitted += batch.length;
      }
      await lane.setCampaign(campaignId, 'run', campaign.priority);
      const result = await change(campaignId, 'running');
      result.devicesQueued = submitted;
      result.jobsSubmitted = submitted;
      return result;
    },

    async cancel(campaignId) {
      const campaign = await store.getCampaign(campaignId);
      if (!campaign) throw new UnknownCampaignError(campaignId);
      const result = await change(campaignId, 'cancelled');
      if (result.state !== 'cancelled') return result;
      const moved = await store.cancelAllWaiting(campaignId);
      result.devicesCancelled = moved;
      result.devicesWithdrawn = moved;
      result.jobsRemoved = moved;
      await lanes.forTenant(campaign.tenant).setCampaign(campaignId, 'drop');
      return result;
    },

    async setPriority(campaignId, priority) {
      const campaign = await store.getCampaign(campaignId);
      if (!campaign || !(await store.setPriority(campaignId, priority)))
        throw new UnknownCampaignError(campaignId);
      const lane = lanes.forTenant(campaign.tenant);
      // Paused: the new class is kept for the resume; cancelled/finished: nothing waits.
      if (campaign.state === 'running') await lane.setCampaign(campaignId, 'run', priority);
      else if (campaign.state === 'paused') await lane.setCampaign(campaignId, 'pause', priority);
      return { previous: campaign.priority, priority };
    },

    setState(campaignId, state) {
      if (state === 'paused') return control.pause(campaignId);
      if (state === 'cancelled') return control.cancel(campaignId);
      return control.resume(campaignId);
    },
  };
  return control;
}
