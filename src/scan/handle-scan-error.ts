import { DelayedError, RateLimitError, UnrecoverableError } from 'bullmq';
import type { DeviceRecord } from '../campaigns/campaign.js';
import { DefenderError, InvalidMachineIdError } from '../defender/errors.js';
import type { MachineAction } from '../defender/machine-action.js';
import type { Logger } from '../shared/logger.js';
import { findOwnAction } from './find-own-action.js';
import { decidePending } from './pending-delay.js';
import type { ScanJob } from './scan-job.js';
import type { ScanOutcome, ScanProcessorDeps } from './scan-ports.js';

export interface ScanErrorContext {
  job: ScanJob;
  token: string | undefined;
  campaignId: string;
  machineId: string;
  /** Campaign creation time: the lower bound of the own-action lookup. */
  since: number;
  /** The device as `markSent` left it, just before the failed call. */
  device: DeviceRecord;
  log: Logger;
  record(action: MachineAction, lostReply: boolean): Promise<ScanOutcome>;
}

/** The failure reason shown in status and export: Microsoft's code, then its message. */
export function failureReason(error: DefenderError): string {
  return error.apiMessage ? `${error.code}: ${error.apiMessage}` : error.code;
}

/**
 * For errors of the own-action lookup (a list call): a 429 holds the queue like one on the scan
 * call, without spending an attempt; anything else is rethrown.
 */
export async function holdIfThrottled(error: unknown, deps: ScanProcessorDeps): Promise<never> {
  if (error instanceof DefenderError && error.retry === 'throttled') {
    await deps.rateLimit(Math.max(1, error.retryAfterMs ?? deps.config.limits.throttleDefault));
    throw new RateLimitError();
  }
  throw error;
}

/** True when BullMQ will not retry this job after the current attempt fails. */
export function isLastAttempt(job: ScanJob): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * What a failed `runAntiVirusScan` means for the device and the job, by the error's retry policy
 * (design.md, worker flow step 4). Records the device's state before throwing BullMQ's control
 * error, so the campaign store is right even if this process dies right after.
 */
export async function handleScanError(
  error: unknown,
  ctx: ScanErrorContext,
  deps: ScanProcessorDeps,
): Promise<ScanOutcome> {
  const { store, clock } = deps;
  const { job, campaignId, machineId, log } = ctx;

  if (error instanceof InvalidMachineIdError) {
    await store.markFailed(campaignId, machineId, 'InvalidMachineId');
    throw new UnrecoverableError(error.message);
  }
  if (!(error instanceof DefenderError)) return failAttempt(error, 'internal-error', ctx, deps);

  const details = { status: error.status, code: error.code, target: error.target };
  if (error.code === 'sign_in_required') {
    // Nobody is signed in for this tenant (delegated auth): no device is at fault, and every
    // other device would fail the same way. Hold the queue, keep the devices, say what fixes it.
    const ms = deps.signInHoldMs ?? 60_000;
    log.error(
      { ...details, holdMs: ms },
      error.apiMessage || 'sign-in required: run fleetscan login',
    );
    await deps.rateLimit(ms);
    throw new RateLimitError();
  }
  switch (error.retry) {
    case 'later': {
      // Busy. If the unfinished action is our own, an earlier reply was lost: record it.
      const own = await findOwnAction(deps.client, {
        campaignId,
        machineId,
        since: ctx.since,
      }).catch((lookupError: unknown) => holdIfThrottled(lookupError, deps));
      if (own) return ctx.record(own, true);
      const now = clock.now();
      const policy = deps.config.scan;
      const decision = decidePending(
        policy,
        ctx.device.firstBusyAt,
        now,
        (deps.random ?? Math.random)(),
      );
      if (decision.kind === 'timeout') {
        await store.markFailed(campaignId, machineId, 'pending-timeout');
        log.warn(
          { ...details, firstBusyAt: ctx.device.firstBusyAt },
          'device still busy at the deadline',
        );
        throw new UnrecoverableError('pending-timeout');
      }
      await store.markDeferred(campaignId, machineId, { until: decision.until, at: now });
      await job.moveToDelayed(decision.until, ctx.token);
      log.info({ ...details, until: decision.until }, 'device busy, deferred');
      throw new DelayedError();
    }
    case 'throttled': {
      // The client has already paused the budget for everyone; hold this worker too.
      const ms = error.retryAfterMs ?? deps.config.limits.throttleDefault;
      log.warn({ ...details, retryAfterMs: ms }, 'throttled by the API');
      await deps.rateLimit(Math.max(1, ms));
      throw new RateLimitError();
    }
    case 'backoff':
      return failAttempt(error, error.code, ctx, deps);
    case 'never':
    case 'reauth': {
      const reason = failureReason(error);
      await store.markFailed(campaignId, machineId, reason);
      log.warn({ ...details, reason }, 'scan refused');
      throw new UnrecoverableError(reason);
    }
  }
}

/** A transient failure spends one BullMQ attempt; the last one records the outcome first. */
async function failAttempt(
  error: unknown,
  reason: string,
  ctx: ScanErrorContext,
  deps: ScanProcessorDeps,
): Promise<ScanOutcome> {
  const last = isLastAttempt(ctx.job);
  const message = error instanceof Error ? error.message : String(error);
  if (last) {
    // A reply lost on the last attempt may still have created the action: look before failing.
    const own = await findOwnAction(deps.client, ctx).catch(() => null);
    if (own) return ctx.record(own, true);
    await deps.store.markFailed(ctx.campaignId, ctx.machineId, reason);
  }
  ctx.log.warn(
    { err: message, attemptsMade: ctx.job.attemptsMade + 1, last },
    'scan attempt failed',
  );
  throw error instanceof Error ? error : new Error(message);
}
