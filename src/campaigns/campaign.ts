import type { ScanType } from '../defender/machine-action.js';

/** A device's place in a campaign, as `fleetscan export` names it. */
export const DEVICE_STATES = ['queued', 'deferred', 'requested', 'failed', 'cancelled'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const CAMPAIGN_STATES = ['running', 'paused', 'cancelled', 'finished'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface CampaignMeta {
  id: string;
  name: string;
  scanType: ScanType;
  /** The Comment sent to the API; ends with the campaign id so every action traces back. */
  comment: string;
  createdAt: number;
  createdBy: string;
  /** What the devices came from: `file:devices.csv`, `query:...`, `tag:...`. */
  source: string;
}

export interface Campaign extends CampaignMeta {
  state: CampaignState;
  finishedAt: number | null;
  total: number;
  counts: Record<DeviceState, number>;
  /** Devices whose 201 carried an action someone else had already started. */
  joinedExisting: number;
  failuresByReason: Record<string, number>;
  /** How many times devices were deferred because they were busy (pending-400s). */
  deferrals: number;
  /**
   * True while `fleetscan scan` is still adding devices (or crashed doing so: re-run it with
   * `--campaign-id`). A campaign never counts as finished while its intake is open.
   */
  intakeOpen?: boolean;
}

export interface DeviceRecord {
  machineId: string;
  state: DeviceState;
  machineActionId: string | null;
  actionStatus: string | null;
  /** The action's `creationDateTimeUtc`, as the API gave it. */
  actionCreatedAt?: string | null;
  reason: string | null;
  /** Calls made for this device that may have reached the API (busy answers included). */
  attempts: number;
  /** When the MachineAction was recorded (ms since epoch). */
  requestedAt: number | null;
  joinedExisting: boolean;
  /** Set before every call: a later attempt that finds it set looks the action up before calling again. */
  sentAt: number | null;
  /** While deferred: when the device is tried again. */
  deferredUntil: number | null;
  /** First time the device answered busy; pending-timeout counts from here. */
  firstBusyAt: number | null;
  /** The host name from the device list or List Machines; set by reads that look it up. */
  hostname?: string | null;
}
