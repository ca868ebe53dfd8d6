import type { DispatchWindow, Priority } from '../campaigns/campaign.js';
import type { ScanType } from '../defender/machine-action.js';

/** What a fire does when the schedule's previous run still has queued or deferred devices. */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** How one planned time ended, as the run history records it. */
export const FIRE_OUTCOMES = ['started', 'skipped-overlap', 'missed', 'failed-to-resolve'] as const;
export type FireOutcome = (typeof FIRE_OUTCOMES)[number];

/** Schedule names: safe in Redis keys, URLs and file names. */
export const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Where a fire's devices come from; resolved again at every fire. */
export interface ScheduleTargets {
  tags: string[];
  group: string | null;
  query: string | null;
  /** Absolute path, re-read at every fire. */
  devices: string | null;
  column: string | null;
  /** Every eligible device of the tenant (List Machines without a filter). */
  all: boolean;
  includeInactive: boolean;
  /**
   * An advanced hunting query whose distinct DeviceIds are the devices, run at every fire (a
   * daily sweep of the devices that saw an indicator). Absent (not null) otherwise, so specs
   * stored before it existed compare equal.
   */
  hunting?: string;
}

/** A schedule as the operator defined it (`schedule add` flags or a `schedules.yaml` entry). */
export interface ScheduleSpec {
  name: string;
  cron: string;
  /** IANA zone the cron expression and the window are read in. */
  tz: string;
  targets: ScheduleTargets;
  scanType: ScanType;
  comment: string;
  tenant: string;
  priority: Priority;
  overlap: OverlapPolicy;
  /** A planned time found later than this is recorded `missed`, never run late. */
  catchupMs: number;
  window: DispatchWindow | null;
  /** Each fire is delayed by a stable pseudo-random 0..jitterMs after its planned time. */
  jitterMs: number;
  /** No planned time before this instant (ms), none after `endAt`. */
  startAt: number | null;
  endAt: number | null;
  /** Stop after this many started runs. */
  maxRuns: number | null;
}

/** What the firing loop keeps about a schedule between fires. */
export interface ScheduleState {
  paused: boolean;
  note: string | null;
  createdAt: number;
  updatedAt: number;
  /** The last planned time handled (fired, skipped or missed); later ones are still to come. */
  cursor: number;
  /** Runs started (for `maxRuns`). */
  runs: number;
  /** The campaign of the last started run. */
  lastCampaignId: string | null;
  /** buffer-one: the planned time waiting for the previous run to end. */
  buffered: number | null;
  /** A run claimed (cursor moved) whose campaign may not exist yet; cleared once it is recorded. */
  pending: PendingFire | null;
  /** Bumped by every change; the firing loop's compare-and-set reads it. */
  version: number;
}

/**
 * A planned time claimed for a run, written in the same atomic step that moves the cursor: any
 * process that finds it later creates (or completes) `campaignId`, so a crash between the claim
 * and the campaign's creation delays that run instead of losing it.
 */
export interface PendingFire {
  planned: number;
  /** When it was claimed. */
  actual: number;
  /** `scheduledCampaignId(schedule, planned)`. */
  campaignId: string;
}

export interface Schedule {
  spec: ScheduleSpec;
  state: ScheduleState;
}

/** One planned time's entry in the run history. */
export interface FireRecord {
  planned: number;
  /** When it was handled (fired, skipped or found missed). */
  actual: number;
  outcome: FireOutcome;
  reason: string | null;
  campaignId: string | null;
  /** Devices queued / skipped by reason / invalid, for `started` runs. */
  counts: { queued: number; invalid: number; skipped: Record<string, number> } | null;
  /** Fired by `schedule trigger` rather than by its cron expression. */
  manual: boolean;
}
