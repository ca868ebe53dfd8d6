import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Config } from '../config/schema.js';
import { createActionTracker } from '../tracking/action-tracker.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';
import { startActionTracker, type RunningTracker } from '../tracking/start-action-tracker.js';
import { createFencedLock } from '../tracking/tracker-lock.js';
import { findOwnAction, isOwnAction, type MachineActionLister } from './find-own-action.js';
import { createScanProcessor } from './process-scan-job.js';
import { parseScanJobId, SCAN_QUEUE_NAME, type ScanJobData } from './scan-job.js';
import type { ScanOutcome, ScanProcessorDeps } from './scan-ports.js';

export interface ScanWorkerSettings {
  concurrency: number;
  /** How long a job's lock lives without renewal; a SIGKILLed worker's jobs return after it. */
  lockDurationMs?: number;
  /** How often any worker looks for jobs whose lock expired (crash recovery latency). */
  stalledIntervalMs?: number;
  /** A job may stall this often before it fails (each stall: a worker died holding it). */
  maxStalledCount?: number;
  /** Run the action tracker in this process too (it takes turns through a fenced Redis lock). */
  pollActionStatuses?: boolean;
  /** Take part in firing schedules (worker processes only; see src/schedules). */
  fireSchedules?: boolean;
}

export interface ScanWorkerDeps extends Omit<ScanProcessorDeps, 'rateLimit'> {
  /** BullMQ connection (`maxRetriesPerRequest: null`); the worker duplicates it for blocking. */
  connection: Redis;
  /** Command connection for the poller's lock. */
  redis: Redis;
  prefix: string;
  /** Holds the whole queue (BullMQ `queue.rateLimit`). */
  rateLimit(ms: number): Promise<void>;
  /** The action tracker's settings and its client (its share of the budget); see src/tracking. */
  tracking?: {
    settings: Config['tracking'];
    lister: MachineActionLister;
    onSettled?: ((campaignId: string) => Promise<void>) | undefined;
  };
}

export interface ScanWorker {
  worker: Worker<ScanJobData, ScanOutcome>;
  poller: RunningTracker | null;
  /** Stops taking jobs, lets the calls in flight finish and be recorded, then disconnects. */
  close(): Promise<void>;
}

/**
 * BullMQ's own job-count limiter is kept out of the way (it could never be reached), but a
 * `limiter` must be set: without one, BullMQ ignores the queue-wide hold that `rateLimit` sets,
 * and only the worker that hit the limit would sleep while the others keep fetching.
 */
const NEVER_REACHED_LIMIT = { max: 1_000_000_000, duration: 1_000 };

/** Starts a worker on the `scans` queue with the scan processor, plus the action tracker. */
export function startScanWorker(deps: ScanWorkerDeps, settings: ScanWorkerSettings): ScanWorker {
  const processor = createScanProcessor(deps);
  const worker = new Worker<ScanJobData, ScanOutcome>(
    SCAN_QUEUE_NAME,
    (job, token) => processor(job, token),
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: settings.concurrency,
      limiter: NEVER_REACHED_LIMIT,
      // The longest sleep between looks at the queue while held: delayed jobs are promoted then.
      maximumRateLimitDelay: 5_000,
      lockDuration: settings.lockDurationMs ?? 30_000,
      stalledInterval: settings.stalledIntervalMs ?? 15_000,
      // Every attempt looks for its own earlier action before calling, so a rerun is safe.
      maxStalledCount: settings.maxStalledCount ?? 5,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  const log = deps.log;
  worker.on('error', (error) => {
    log.warn({ reason: error.message }, 'worker error');
  });
  worker.on('failed', (job, error) => {
    if (job?.finishedOn === undefined) return; // an attempt, not the end
    settleFailedJob(job, error, deps).catch((settleError: unknown) => {
      log.warn({ jobId: job.id, reason: String(settleError) }, 'could not record a failed job');
    });
  });

  const trackerLog = log.child({ component: 'action-tracker' });
  const tracking = deps.tracking;
  const poller =
    settings.pollActionStatuses === false
      ? null
      : startActionTracker(
          createActionTracker({
            store: deps.store,
            lifecycle: createLifecycleStore(deps.redis, deps.prefix),
            lister: tracking?.lister ?? deps.client,
            lock: createFencedLock(
              deps.redis,
              `${deps.prefix}:lock:action-tracker`,
              tracking?.settings.lockTtl ?? 60_000,
            ),
            clock: deps.clock,
            log: trackerLog,
            settings: {
              intervalMs: tracking?.settings.interval ?? deps.config.scan.actionPoll,
              horizonMs: tracking?.settings.horizon ?? 7 * 86_400_000,
              requestor: tracking?.settings.requestor,
            },
            ...(tracking?.onSettled ? { onSettled: tracking.onSettled } : {}),
          }),
          tracking?.settings.interval ?? deps.config.scan.actionPoll,
          trackerLog,
        );

  let closing: Promise<void> | undefined;
  return {
    worker,
    poller,
    close() {
      closing ??= (async () => {
        await poller?.stop();
        await worker.close();
      })();
      return closing;
    },
  };
}

/**
 * A job BullMQ failed without the processor recording why (stalled too often: its workers kept
 * dying; or a store write failed on the last attempt). Records the device's own action if one
 * was made, else the failure, so the campaign can finish and the export tells the truth.
 */
export async function settleFailedJob(
  job: Pick<Job<ScanJobData>, 'id'>,
  error: Error,
  deps: Pick<ScanWorkerDeps, 'store' | 'client' | 'clock' | 'log'> & { store: CampaignStore },
): Promise<void> {
  const { campaignId, machineId } = parseScanJobId(job.id);
  const device = await deps.store.getDevice(campaignId, machineId);
  if (!device || (device.state !== 'queued' && device.state !== 'deferred')) return;
  const campaign = await deps.store.getCampaign(campaignId);
  // The job is gone: a device left waiting here would keep its campaign from ever finishing,
  // so a lookup that fails too (the API still erroring) ends in the failure below.
  const own = campaign
    ? await findOwnAction(deps.client, {
        campaignId,
        machineId,
        since: campaign.createdAt,
      }).catch((lookupError: unknown) => {
        deps.log.warn(
          { campaignId, machineId, reason: String(lookupError) },
          'own-action lookup failed',
        );
        return null;
      })
    : null;
  if (own) {
    await deps.store.markRequested(campaignId, machineId, own, {
      joinedExisting: !isOwnAction(own, campaignId),
      at: deps.clock.now(),
    });
    return;
  }
  await deps.store.markFailed(campaignId, machineId, error.message || 'job-failed');
  deps.log.warn(
    { campaignId, machineId, jobId: job.id, reason: error.message },
    'job failed outside the processor',
  );
}
