import type { DeviceRecord } from '../campaigns/campaign.js';
import { ReconcilePendingError, UnknownDeviceError } from '../campaigns/errors.js';
import { DefenderError } from '../defender/errors.js';
import type { MachineAction } from '../defender/machine-action.js';
import { createCampaignCache } from './campaign-cache.js';
import { handleDeviceError, lookupOwnAction, type TurnContext } from './device-error.js';
import type { DeviceTurn, DeviceTurnInput, ScanProcessorDeps } from './scan-ports.js';
import { createScheduleClock } from '../schedules/schedule-clock.js';
import { windowWaitMs } from '../schedules/window-gate.js';
import { isOwnAction } from '../tracking/find-own-action.js';
import { callsFor } from '../metrics/call-timeline.js';
import type { Logger } from '../shared/logger.js';
import { waitUntil } from '../shared/wait-until.js';

export type { DeviceTurn, ScanOutcome, ScanProcessorDeps } from './scan-ports.js';

const FINAL_STATES: ReadonlySet<string> = new Set(['requested', 'failed', 'cancelled']);
const DONE = { kind: 'done' } as const;

/**
 * Whether an earlier attempt may have reached the API without its reply being recorded. A device
 * deferred after its last call got a definite busy answer: that call created nothing. An earlier
 * unanswered send keeps the device "maybe sent" (sticky) whatever came after it.
 */
export function mayHaveReachedApi(device: DeviceRecord): boolean {
  if (device.maybeSent === true) return true;
  if (device.sentAt === null) return false;
  const answeredBusy =
    device.state === 'deferred' &&
    device.deferredUntil !== null &&
    device.sentAt < device.deferredUntil;
  return !answeredBusy;
}

/**
 * One device's turn (design.md "The worker flow"): dispatch handed it over with a slot; the turn
 * ends with the device recorded, failed, due again, or held, and the slot settled (a call may
 * have left) or released (none did). Never calls twice for one device: `markSent` comes before
 * every call, and a device whose earlier call may have reached the API is looked up first.
 */
export function createDeviceProcessor(deps: ScanProcessorDeps) {
  const { store, clock } = deps;
  const cache = createCampaignCache(store, clock, deps.campaignCacheMs ?? 1_000);
  const windowClock = deps.windowClock ?? createScheduleClock({ realNow: () => clock.now() });

  // Every call of a turn (the scan request, a look-up) counts in its campaign's call timeline.
  return (input: DeviceTurnInput): Promise<DeviceTurn> =>
    callsFor(input.campaignId, () => turn(input));

  async function turn(input: DeviceTurnInput): Promise<DeviceTurn> {
    const { campaignId, machineId, permit } = input;
    // The turn's own logger only when something other than the happy path logs: a child logger
    // per call was a measurable share of a worker's CPU (issue 26).
    let turnLog: Logger | undefined;
    const logOf = () => (turnLog ??= deps.log.child({ campaignId, machineId }));
    const unused = async (turn: DeviceTurn): Promise<DeviceTurn> => {
      await permit.release(); // no call left this process
      return turn;
    };

    const campaign = await cache.get(campaignId);
    if (!campaign) {
      // Cancelled campaigns leave the lanes: a device still dispatched for a campaign the store
      // does not have means the store lost it.
      deps.onMissingCampaign?.(campaignId);
      return unused({ outcome: 'cancelled', end: DONE });
    }
    // Dispatch window (schedules, `scan --window`): outside it the device waits for the opening,
    // like a paused campaign's: no attempt spent, no API call.
    const closedForMs = windowWaitMs(campaign.window, windowClock);

    // No call while the campaign's records may be incomplete: its actions are looked up first.
    const reconcileFirst = async (): Promise<DeviceTurn> => {
      const at = (ms: number): DeviceTurn => ({
        outcome: 'held',
        end: { kind: 'due', at: clock.now() + ms, attempt: false },
      });
      if (!deps.reconciler) {
        logOf().error('campaign needs a reconcile pass and this process cannot run one');
        return unused(at(deps.config.scan.backoff));
      }
      try {
        const state = await deps.reconciler.ensure(campaignId);
        cache.forget(campaignId);
        // Back in line: the next turn reads the device as the pass left it.
        return await unused(
          state === 'reconciled' ? { outcome: 'held', end: { kind: 'hold' } } : at(500),
        );
      } catch (error) {
        if (error instanceof DefenderError && error.retry === 'throttled') {
          return unused(at(Math.max(1, error.retryAfterMs ?? deps.config.limits.throttleDefault)));
        }
        logOf().warn({ reason: String(error) }, 'reconcile pass failed; trying again');
        return unused(at(deps.config.scan.backoff));
      }
    };

    const client = deps.clientFor(campaign.tenant);
    const record = async (action: MachineAction, lostReply: boolean): Promise<DeviceTurn> => {
      const joinedExisting = !isOwnAction(action, campaignId);
      await store.markRequested(campaignId, machineId, action, { joinedExisting, at: clock.now() });
      // The same fields the turn's child logger would add, without building one per call.
      deps.log.info(
        {
          campaignId,
          machineId,
          machineActionId: action.id,
          actionStatus: action.status,
          joinedExisting,
          lostReply,
        },
        'scan requested',
      );
      return {
        outcome: lostReply ? 'recorded-lost-reply' : 'requested',
        end: DONE,
        tenant: 'works',
      };
    };
    const ctx: TurnContext = {
      campaignId,
      machineId,
      since: campaign.createdAt,
      tries: input.tries,
      device: null,
      client,
      get log() {
        return logOf();
      },
      record,
    };

    // The happy path reads and marks the device in one step (issue 26: one round trip, not two);
    // any other case reads it first, as below.
    const plain =
      campaign.state === 'running' &&
      closedForMs <= 0 &&
      (campaign.reconcile ?? 0) === 0 &&
      input.tries < deps.config.scan.attempts;
    let sent: DeviceRecord | null = null;
    if (plain) {
      try {
        sent = await store.markSentUnlessMaybeSent(campaignId, machineId, clock.now());
      } catch (error) {
        if (error instanceof UnknownDeviceError)
          return unused({ outcome: 'already-done', end: DONE });
        // A Redis restart since the campaign's last call (transition-3.lua): reconcile first.
        if (error instanceof ReconcilePendingError) return reconcileFirst();
        await permit.release();
        return handleDeviceError(error, ctx, deps);
      }
    }
    if (sent === null) {
      const device = await store.getDevice(campaignId, machineId);
      if (!device || FINAL_STATES.has(device.state))
        return unused({ outcome: 'already-done', end: DONE });
      if (campaign.state === 'cancelled') {
        await store.markCancelled(campaignId, machineId);
        return unused({ outcome: 'cancelled', end: DONE });
      }
      if (campaign.state === 'paused') return unused({ outcome: 'held', end: { kind: 'hold' } });
      if (closedForMs > 0) {
        const at = clock.now() + closedForMs;
        return unused({ outcome: 'held', end: { kind: 'due', at, attempt: false } });
      }
      if ((campaign.reconcile ?? 0) > 0) return reconcileFirst();
      ctx.device = device;

      if (mayHaveReachedApi(device) || input.tries >= deps.config.scan.attempts) {
        const looked = await lookupOwnAction(ctx, deps);
        if (looked.kind === 'found') return unused(await record(looked.action, true));
        if (looked.kind === 'turn') return unused(looked.turn);
        if (input.tries >= deps.config.scan.attempts) {
          // Processes kept dying with this device (each one an attempt): stop trying it.
          await store.markFailed(campaignId, machineId, 'worker-lost');
          return unused({ outcome: 'failed', end: DONE });
        }
      }

      try {
        sent = await store.markSent(campaignId, machineId, clock.now());
      } catch (error) {
        if (error instanceof ReconcilePendingError) return reconcileFirst();
        await permit.release();
        return handleDeviceError(error, ctx, deps);
      }
    }
    if (sent.state !== 'queued' && sent.state !== 'deferred') {
      // Recorded or cancelled since we looked (a recovered device, a cancel sweep): a call now
      // could only make a second action.
      return unused({
        outcome: sent.state === 'cancelled' ? 'cancelled' : 'already-done',
        end: DONE,
      });
    }

    // A lookahead grant: the reads are done, the call leaves the moment its slot opens.
    if (input.notBefore !== undefined) await waitUntil(input.notBefore);
    // The slot's settle and the record go to Redis together: one round trip after the reply.
    let settling: Promise<void> = Promise.resolve();
    try {
      const action = await client.runAntiVirusScan(
        machineId,
        { comment: campaign.comment, scanType: campaign.scanType },
        {
          permit,
          onSettling: (pending) => {
            settling = pending;
          },
        },
      );
      const [turn] = await Promise.all([record(action, false), settling]);
      return turn;
    } catch (error) {
      await settling;
      if (!(error instanceof DefenderError)) logOf().debug({ err: error }, 'scan call failed');
      return handleDeviceError(error, { ...ctx, device: sent }, deps);
    }
  }
}

export type DeviceProcessor = ReturnType<typeof createDeviceProcessor>;
