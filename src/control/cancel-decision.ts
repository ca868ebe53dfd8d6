import type { DeviceRecord } from '../campaigns/campaign.js';
import { isTerminalStatus } from '../tracking/tracking-plan.js';

/**
 * What the kill switch does with one device:
 * - `not-requested`: no action was recorded (waiting devices are cancelled in the store instead);
 * - `joined`: the action is someone else's (joined-existing): never touched;
 * - `done`: an earlier run already cancelled it, or found it final;
 * - `already-final`: its recorded status is terminal: nothing to cancel, no call;
 * - `cancel`: Pending, InProgress or unknown: send the cancel (a refused one is tried again).
 */
export type CancelDecision = 'not-requested' | 'joined' | 'done' | 'already-final' | 'cancel';

export function cancelDecision(
  device: Pick<
    DeviceRecord,
    'state' | 'machineActionId' | 'joinedExisting' | 'actionStatus' | 'cancelResult'
  >,
): CancelDecision {
  if (device.state !== 'requested' || device.machineActionId === null) return 'not-requested';
  if (device.joinedExisting) return 'joined';
  if (device.cancelResult === 'cancelled' || device.cancelResult === 'already-final') return 'done';
  if (isTerminalStatus(device.actionStatus)) return 'already-final';
  return 'cancel';
}
