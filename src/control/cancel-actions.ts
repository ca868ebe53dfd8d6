import type { CancelResult } from '../campaigns/campaign.js';
import type { CampaignControl } from './campaign-control.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import { DefenderError } from '../defender/errors.js';
import type { MachineAction } from '../defender/machine-action.js';
import { callsFor } from '../metrics/call-timeline.js';
import type { Logger } from '../shared/logger.js';
import type { LifecycleStore } from '../tracking/lifecycle-store.js';
import { isTerminalStatus } from '../tracking/tracking-plan.js';
import { cancelDecision } from './cancel-decision.js';

/** The part of the Defender client the kill switch uses (both calls go through the budget gate). */
export interface CancelApi {
  cancelMachineAction(actionId: string, comment: string): Promise<MachineAction>;
  getMachineAction(actionId: string): Promise<MachineAction>;
}

export interface CancelActionsDeps {
  store: Pick<CampaignStore, 'iterateDevices'>;
  control: Pick<CampaignControl, 'cancel'>;
  client: CancelApi;
  lifecycle: Pick<LifecycleStore, 'recordCancelResults'>;
  log: Logger;
  /** Cancels in flight at once; the cancel budget's gate paces them (default 16). */
  concurrency?: number;
}

export interface CancelActionsSummary {
  campaignId: string;
  /** Queued and deferred devices stopped in the store (their jobs removed). */
  waitingCancelled: number;
  /** Waiting devices taken out of their lane. */
  devicesWithdrawn: number;
  /** Deprecated: the BullMQ-era name of `devicesWithdrawn`, kept in JSON output until 1.0.0. */
  jobsRemoved: number;
  /** Actions cancelled by this run. */
  cancelled: number;
  /** Actions already Succeeded, Failed, TimeOut or Cancelled (recorded, or found on a 400). */
  alreadyFinal: number;
  /** Cancels the API refused, by error code. */
  refused: number;
  refusedByCode: Record<string, number>;
  /** Joined-existing devices: their action is someone else's and was left alone. */
  joinedUntouched: number;
  /** Devices an earlier run already settled. */
  doneBefore: number;
}

/** Retries of one cancel after a 429 or a 5xx (the gate waits out the pause first). */
const MAX_TRIES = 5;

/**
 * The kill switch (`fleetscan cancel ID --actions`): stops the campaign's waiting devices, then
 * cancels every one of its own actions that is not final, through the cancel budget; records the
 * outcome per device, so a second run only touches what is left.
 */
export function cancelCampaignActions(
  deps: CancelActionsDeps,
  campaignId: string,
  comment: string,
): Promise<CancelActionsSummary> {
  // Every cancel and look-up counts in the campaign's call timeline (its report's chart).
  return callsFor(campaignId, () => cancelActions(deps, campaignId, comment));
}

async function cancelActions(
  deps: CancelActionsDeps,
  campaignId: string,
  comment: string,
): Promise<CancelActionsSummary> {
  const stopped = await deps.control.cancel(campaignId);
  const summary: CancelActionsSummary = {
    campaignId,
    waitingCancelled: stopped.devicesCancelled,
    devicesWithdrawn: stopped.devicesWithdrawn,
    jobsRemoved: stopped.devicesWithdrawn,
    cancelled: 0,
    alreadyFinal: 0,
    refused: 0,
    refusedByCode: {},
    joinedUntouched: 0,
    doneBefore: 0,
  };
  const todo: { machineId: string; actionId: string }[] = [];
  const finalNow: { machineId: string; result: CancelResult }[] = [];
  for await (const device of deps.store.iterateDevices(campaignId)) {
    const decision = cancelDecision(device);
    if (decision === 'joined') summary.joinedUntouched += 1;
    else if (decision === 'done') summary.doneBefore += 1;
    else if (decision === 'already-final') {
      summary.alreadyFinal += 1;
      finalNow.push({ machineId: device.machineId, result: 'already-final' });
    } else if (decision === 'cancel' && device.machineActionId !== null) {
      todo.push({ machineId: device.machineId, actionId: device.machineActionId });
    }
  }
  await deps.lifecycle.recordCancelResults(campaignId, finalNow);

  const results: { machineId: string; result: CancelResult }[] = [];
  const cancelOne = async (item: { machineId: string; actionId: string }) => {
    const outcome = await cancelWithRetries(deps, item.actionId, comment);
    results.push({ machineId: item.machineId, result: outcome.result });
    if (outcome.result === 'cancelled') summary.cancelled += 1;
    else if (outcome.result === 'already-final') summary.alreadyFinal += 1;
    else {
      summary.refused += 1;
      summary.refusedByCode[outcome.code] = (summary.refusedByCode[outcome.code] ?? 0) + 1;
    }
    if (results.length >= 500)
      await deps.lifecycle.recordCancelResults(campaignId, results.splice(0));
  };
  let next = 0;
  const workers = Array.from(
    { length: Math.min(deps.concurrency ?? 16, todo.length) },
    async () => {
      while (next < todo.length) {
        const item = todo[next++];
        if (item) await cancelOne(item);
      }
    },
  );
  try {
    await Promise.all(workers);
  } finally {
    await deps.lifecycle.recordCancelResults(campaignId, results.splice(0));
  }
  deps.log.info({ ...summary }, 'kill switch done');
  return summary;
}

async function cancelWithRetries(
  deps: Pick<CancelActionsDeps, 'client' | 'log'>,
  actionId: string,
  comment: string,
): Promise<{ result: CancelResult; code: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const action = await deps.client.cancelMachineAction(actionId, comment);
      return {
        result: action.status === 'Cancelled' ? 'cancelled' : 'refused',
        code: action.status,
      };
    } catch (error) {
      if (!(error instanceof DefenderError)) throw error;
      const retry = error.retry === 'throttled' || error.retry === 'backoff';
      if (retry && attempt < MAX_TRIES) continue;
      if (error.status === 400) {
        // A 400 says it could not be cancelled: final already, or refused while still running.
        const current = await deps.client.getMachineAction(actionId).catch(() => null);
        if (current && isTerminalStatus(current.status))
          return { result: 'already-final', code: current.status };
      }
      deps.log.warn({ actionId, code: error.code, status: error.status }, 'cancel refused');
      return { result: 'refused', code: error.code };
    }
  }
}
