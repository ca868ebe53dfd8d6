import { DelayedError, RateLimitError, UnrecoverableError } from 'bullmq';
import type { DeviceRecord } from '../campaigns/campaign.js';
import type { MachineAction } from '../defender/machine-action.js';
import { createScheduleClock } from '../schedules/schedule-clock.js';
import { windowWaitMs } from '../schedules/window-gate.js';
import { createCampaignCache } from './campaign-cache.js';
import { findOwnAction, isOwnAction } from './find-own-action.js';
import { handleScanError, holdIfThrottled, type ScanErrorContext } from './handle-scan-error.js';
import { parseScanJobId, type ScanJob } from './scan-job.js';
import type { ScanOutcome, ScanProcessorDeps } from './scan-ports.js';

export type { ScanOutcome, ScanProcessorDeps } from './scan-ports.js';

const FINAL_STATES: ReadonlySet<string> = new Set(['requested', 'failed', 'cancelled']);

/**
 * Whether an earlier attempt may have reached the API without its reply being recorded. A device
 * deferred after its last call got a definite busy answer: that call created nothing.
 */
export function mayHaveReachedApi(device: DeviceRecord): boolean {
  if (device.sentAt === null) return false;
  const answeredBusy =
    device.state === 'deferred' &&
    device.deferredUntil !== null &&
    device.sentAt < device.deferredUntil;
  return !answeredBusy;
}

/**
 * The BullMQ processor: one device of one campaign → one recorded MachineAction (design.md,
 * "The worker flow"). Converts outcomes to BullMQ's control errors here and nowhere else:
 * `RateLimitError` (no slot / 429: no attempt spent), `DelayedError` (busy device or paused
 * campaign: no attempt spent), `UnrecoverableError` (never retried), anything else: an attempt.
 */
export function createScanProcessor(deps: ScanProcessorDeps) {
  const { store, client, clock } = deps;
  const cache = createCampaignCache(store, clock, deps.campaignCacheMs ?? 1_000);
  const windowClock = deps.windowClock ?? createScheduleClock({ realNow: () => clock.now() });

  return async function processScanJob(job: ScanJob, token?: string): Promise<ScanOutcome> {
    const { campaignId, machineId } = parseScanJobId(job.id);
    const log = deps.log.child({ campaignId, machineId, jobId: job.id });

    const campaign = await cache.get(campaignId);
    if (!campaign) throw new UnrecoverableError(`Campaign ${campaignId} does not exist`);
    const device = await store.getDevice(campaignId, machineId);
    if (!device)
      throw new UnrecoverableError(`Device ${machineId} is not part of campaign ${campaignId}`);
    if (FINAL_STATES.has(device.state)) return 'already-done'; // job picked up twice
    if (campaign.state === 'cancelled') {
      await store.markCancelled(campaignId, machineId);
      return 'cancelled';
    }
    if (campaign.state === 'paused') {
      await job.moveToDelayed(clock.now() + (deps.pausedPollMs ?? 5_000), token);
      throw new DelayedError();
    }
    // Dispatch window (schedules): outside it the job waits for the opening, like a paused
    // campaign's: no attempt spent, no API call.
    const closedForMs = windowWaitMs(campaign.window, windowClock);
    if (closedForMs > 0) {
      await job.moveToDelayed(clock.now() + closedForMs, token);
      throw new DelayedError();
    }

    const record = async (action: MachineAction, lostReply: boolean): Promise<ScanOutcome> => {
      const joinedExisting = !isOwnAction(action, campaignId);
      await store.markRequested(campaignId, machineId, action, { joinedExisting, at: clock.now() });
      log.info(
        { machineActionId: action.id, actionStatus: action.status, joinedExisting, lostReply },
        'scan requested',
      );
      return lostReply ? 'recorded-lost-reply' : 'requested';
    };

    const since = campaign.createdAt;
    if (mayHaveReachedApi(device)) {
      const own = await findOwnAction(client, { campaignId, machineId, since }).catch(
        (error: unknown) => holdIfThrottled(error, deps),
      );
      if (own) return record(own, true);
    }

    const slot = await deps.limiter.tryAcquire('scan');
    if (slot.permit === undefined) {
      // Sleep in BullMQ, not here: the job goes back to wait and the worker fetches nothing until then.
      await deps.rateLimit(Math.max(1, Math.ceil(slot.waitMs)));
      throw new RateLimitError();
    }

    let sent: DeviceRecord;
    try {
      sent = await store.markSent(campaignId, machineId, clock.now());
    } catch (error) {
      await slot.permit.release(); // nothing left the process
      throw error;
    }
    if (sent.state !== 'queued' && sent.state !== 'deferred') {
      // Recorded or cancelled since we looked (the same job run twice at once, a cancel sweep):
      // a call now could only make a second action.
      await slot.permit.release();
      return sent.state === 'cancelled' ? 'cancelled' : 'already-done';
    }

    let action: MachineAction;
    try {
      action = await client.runAntiVirusScan(
        machineId,
        { comment: campaign.comment, scanType: campaign.scanType },
        { permit: slot.permit },
      );
    } catch (error) {
      const context: ScanErrorContext = {
        job,
        token,
        campaignId,
        machineId,
        since,
        device: sent,
        log,
        record,
      };
      return handleScanError(error, context, deps);
    }
    return record(action, false);
  };
}

export type ScanProcessor = ReturnType<typeof createScanProcessor>;
