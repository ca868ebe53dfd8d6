import type { ScanType } from '../defender/machine-action.js';

/** A device's place in a campaign, as `fleetscan export` names it. */
export const DEVICE_STATES = ['queued', 'deferred', 'requested', 'failed', 'cancelled'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** Dispatch classes: the next free slot of a budget goes to the highest class with a device ready. */
export const PRIORITIES = ['urgent', 'normal', 'background'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The tenant of today's single-tenant setup (the MDE_* environment variables). */
export const DEFAULT_TENANT = 'default';

/**
 * A daily local-time window outside which a campaign's devices are not dispatched (they wait
 * without spending attempts). `start` > `end` crosses midnight. Times are `HH:MM`, `tz` an IANA zone.
 */
export interface DispatchWindow {
  start: string;
  end: string;
  tz: string;
}

export const CAMPAIGN_STATES = ['running', 'paused', 'cancelled', 'finished'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

/** Outcome of cancelling a device's own action (`fleetscan cancel --actions`). */
export const CANCEL_RESULTS = ['cancelled', 'already-final', 'refused'] as const;
export type CancelResult = (typeof CANCEL_RESULTS)[number];

/**
 * Proof of completion per device (`fleetscan verify`). `ambiguous`: more than one scan of the
 * requested kind ended after delivery (a scheduled scan overlapped), so none proves this one.
 */
export const SCAN_RESULTS = [
  'completed',
  'cancelled',
  'failed',
  'ambiguous',
  'no-evidence',
] as const;
export type ScanResult = (typeof SCAN_RESULTS)[number];

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
  /** The tenant (API identity) whose devices these are and whose budget the calls spend. */
  tenant: string;
  priority: Priority;
  /** Local-time dispatch window, or null for any time. */
  window: DispatchWindow | null;
  /** The schedule that fired this campaign, or null for an ad-hoc one. */
  schedule: string | null;
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
  /**
   * Non-zero while the campaign's records may be incomplete (a `--campaign-id` re-run, a Redis
   * restart or rollback, a detected store loss): no device is called until one batched lookup of
   * the campaign's actions has recorded them (src/scan/reconcile-campaign.ts). The number is the
   * request's generation, so a pass only clears the request it saw.
   */
  reconcile?: number;
}

/**
 * What Defender Antivirus detected on a device from the request to the scan's end plus the
 * grace period (`verify`, issue 28): `AntivirusDetection` rows and new alerts.
 */
export interface DeviceThreats {
  /** Detections (one per threat and file). */
  count: number;
  /** Distinct threat names, sorted (at most 20). */
  names: string[];
  /** Detections not (or not known to be) remediated. */
  unremediated: number;
  /** Distinct paths of the detected files (at most 20). */
  files: string[];
  /** New alerts on the device in the window. */
  alerts: number;
  alertTitles: string[];
  /** The first detection's time (ISO), null when clean. */
  firstAt: string | null;
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
  /**
   * An earlier send was never answered, so it may have made an action: every later turn looks
   * the action up first, until one is recorded (sticky, unlike `sentAt`).
   */
  maybeSent?: boolean;
  /** While deferred: when the device is tried again. */
  deferredUntil: number | null;
  /** First time the device answered busy; pending-timeout counts from here. */
  firstBusyAt: number | null;
  /** The action's `lastUpdateDateTimeUtc` as the tracker last saw it (src/tracking). */
  actionUpdatedAt?: string | null;
  /** What `cancel --actions` got for this device's action (src/control). */
  cancelResult?: CancelResult | null;
  /** Proof of completion from advanced hunting (`fleetscan verify`). */
  scanResult?: ScanResult | null;
  /** Timestamp of the scan event that proved the result. */
  scanCompletedAt?: string | null;
  /** Scan type the event reported (Quick, Full, or the raw index). */
  scanEventType?: string | null;
  /** What Defender Antivirus found during the scan (`verify`); null until verified. */
  threats?: DeviceThreats | null;
  /** The host name from the device list or List Machines; set by reads that look it up. */
  hostname?: string | null;
}
