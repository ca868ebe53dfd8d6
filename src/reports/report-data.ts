import type { Campaign, DeviceRecord, DeviceThreats } from '../campaigns/campaign.js';
import type { RateWindow } from '../config/duration.js';
import { isArchived } from '../retention/campaign-reader.js';
import type { TimelineBucket } from '../metrics/call-timeline.js';
import type { CampaignLifecycle } from '../tracking/lifecycle-store.js';

/** One device where Defender Antivirus detected something during the campaign's scan. */
export interface FoundDevice {
  machineId: string;
  hostname: string | null;
  threats: DeviceThreats;
}

export interface ReportFindings {
  /** Devices a verify run looked at (the rest were never checked). */
  checked: number;
  withDetections: number;
  unremediated: number;
  alerted: number;
  detections: number;
  /** Devices with detections, not remediated first, then most detections (at most `MAX_FOUND_LISTED`). */
  devices: FoundDevice[];
}

/** Devices listed by name in the report; the counts always cover all of them. */
export const MAX_FOUND_LISTED = 1_000;

/** Everything a campaign report shows; every number is counted from the device records. */
export interface ReportData {
  generatedAt: string;
  campaign: {
    id: string;
    name: string;
    comment: string;
    createdBy: string;
    createdAt: string;
    source: string;
    scanType: string;
    state: string;
    tenant: string;
    priority: string;
    finishedAt: string | null;
    schedule: string | null;
    /** Present once the campaign was archived: read from its archive, no longer in Redis. */
    archived?: { at: string; file: string };
  };
  targets: { devices: number; skipped: Record<string, number> };
  /** Devices by state (queued, deferred, requested, failed, cancelled). */
  outcomes: Record<string, number>;
  joinedExisting: number;
  /** Devices by their action's last status; `none` for devices without an action. */
  actionStatuses: Record<string, number>;
  /** The devices counted as `none` above, by their state: why they have no action. */
  noAction: Record<string, number>;
  proof: {
    verifiedAt: string | null;
    completed: number;
    cancelled: number;
    failed: number;
    /** Another scan of the requested kind ended after delivery too: none proves this one. */
    ambiguous: number;
    noEvidence: number;
    /** Devices with an action but no verify result (verify not run, or run before they had one). */
    unverified: number;
    /** Devices with an action: the denominator of "proved complete". */
    withAction: number;
  };
  /** What the scans found (`verify`), counted from the device records. */
  findings: ReportFindings;
  cancels: { cancelled: number; alreadyFinal: number; refused: number };
  failures: Record<string, number>;
  tracking: { settledAt: string | null; endedAt: string | null; openAtEnd: number | null };
  calls: CallsReport;
  duration: {
    firstRequestAt: string | null;
    lastRequestAt: string | null;
    ms: number | null;
    /** Scan requests recorded (devices with an action): what the floor is computed for. */
    requests: number;
    /** The least time the configured caps allow for this many requests. */
    floorMs: number;
    /** The caps the floor is computed from (`limits.windows`), shortest window first. */
    caps: RateWindow[];
  };
}

/** Calls of one family in one window-long bucket (aligned to the epoch, as `start` says). */
export interface CallBucket {
  start: string;
  total: number;
  byFamily: Record<string, number>;
}

/**
 * The campaign's calls of one endpoint family per configured window, for one chart against
 * that family's cap; with a shared budget, every family together against the one cap.
 */
export interface WindowChart {
  /** The family whose budget the chart shows, or null when every family shares one budget. */
  family: string | null;
  window: RateWindow;
  /** Buckets with at least one call, oldest first; empty windows between them are left out. */
  buckets: CallBucket[];
  /** The most calls the budget took in one bucket. */
  busiest: number;
}

export interface CallsReport {
  /**
   * Every API call made for this campaign that may have reached the API (its call timeline):
   * scan requests with their retries, 429s, busy answers, errors and lost replies, look-ups of
   * lost replies, and kill-switch cancels. The tracker's listing serves every campaign of a
   * tenant at once and is not in here.
   */
  total: number;
  byFamily: Record<string, number>;
  /** `limits.budgetScope`: whether each family has its own caps or all share them. */
  budgetScope: 'family' | 'shared';
  /**
   * One chart per budget and configured window: per family with calls (in `byFamily` order:
   * scan first), shortest window first; one per window when the budget is shared.
   */
  charts: WindowChart[];
}

/** The order families are shown in: the scan first, then as the campaign's calls go. */
const FAMILY_ORDER = ['scan', 'machineActions', 'cancel', 'machines'];
const familyRank = (family: string): number => {
  const rank = FAMILY_ORDER.indexOf(family);
  return rank < 0 ? FAMILY_ORDER.length : rank;
};

/** The buckets of `timeline` summed into window-long buckets aligned to the epoch. */
function windowChart(
  timeline: readonly TimelineBucket[],
  window: RateWindow,
  family: string | null,
): WindowChart {
  const buckets = new Map<number, CallBucket>();
  for (const b of timeline) {
    const startMs = Math.floor(b.startMs / window.windowMs) * window.windowMs;
    let bucket = buckets.get(startMs);
    if (!bucket) {
      bucket = { start: new Date(startMs).toISOString(), total: 0, byFamily: {} };
      buckets.set(startMs, bucket);
    }
    bucket.total += b.calls;
    bucket.byFamily[b.family] = (bucket.byFamily[b.family] ?? 0) + b.calls;
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
  return { family, window, buckets: sorted, busiest: Math.max(0, ...sorted.map((b) => b.total)) };
}

/**
 * The timeline's buckets summed per window: each call counts in the window-long bucket its
 * timeline bucket starts in (exact when the window is a multiple of the timeline's bucket).
 * With `family` scope each family spends its own budget, so each gets its own charts: stacking
 * 89 cancels on 89 look-ups against one cap of 100 would show a breach that never was.
 */
export function callsReport(
  timeline: readonly TimelineBucket[],
  windows: readonly RateWindow[],
  budgetScope: 'family' | 'shared',
): CallsReport {
  const byFamily: Record<string, number> = {};
  for (const b of timeline) byFamily[b.family] = (byFamily[b.family] ?? 0) + b.calls;
  const ordered = [...windows].sort((a, b) => a.windowMs - b.windowMs);
  const families = Object.keys(byFamily).sort(
    (a, b) => familyRank(a) - familyRank(b) || a.localeCompare(b),
  );
  const charts =
    budgetScope === 'shared'
      ? ordered.map((window) => windowChart(timeline, window, null))
      : families.flatMap((family) => {
          const own = timeline.filter((b) => b.family === family);
          return ordered.map((window) => windowChart(own, window, family));
        });
  const total = Object.values(byFamily).reduce((sum, n) => sum + n, 0);
  const sortedByFamily = Object.fromEntries(families.map((f) => [f, byFamily[f] ?? 0]));
  return { total, byFamily: sortedByFamily, budgetScope, charts };
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/**
 * The least time `n` calls can take under every window at once: a window of `cap` calls in
 * `windowMs` lets call k (0-based) go no earlier than floor(k / cap) windows after the first.
 */
export function durationFloorMs(n: number, windows: readonly RateWindow[]): number {
  if (n <= 1) return 0;
  return Math.max(0, ...windows.map((w) => Math.floor((n - 1) / w.cap) * w.windowMs));
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** `{ archived }` of a campaign read from its archive (`retention`), else null. */
function archivedOf(campaign: Campaign): { archived: { at: string; file: string } } | null {
  if (!isArchived(campaign)) return null;
  const { archivedAt, file } = campaign.archived;
  return { archived: { at: new Date(archivedAt).toISOString(), file } };
}

function addFound(
  sum: ReportFindings,
  machineId: string,
  hostname: string | null,
  threats: DeviceThreats,
): void {
  sum.checked += 1;
  if (threats.count === 0) return;
  sum.withDetections += 1;
  sum.detections += threats.count;
  if (threats.unremediated > 0) sum.unremediated += 1;
  if (threats.alerts > 0) sum.alerted += 1;
  sum.devices.push({ machineId, hostname, threats });
  // Keep memory bounded on a huge campaign: trim to the worst once the list doubles.
  if (sum.devices.length >= 2 * MAX_FOUND_LISTED)
    sum.devices = sum.devices.sort(worstFirst).slice(0, MAX_FOUND_LISTED);
}

/** What needs a responder first: unremediated, then most detections, then by id. */
function worstFirst(a: FoundDevice, b: FoundDevice): number {
  return (
    b.threats.unremediated - a.threats.unremediated ||
    b.threats.count - a.threats.count ||
    a.machineId.localeCompare(b.machineId)
  );
}

/** Builds the report from the campaign, its lifecycle record and one pass over its devices. */
export async function buildReportData(input: {
  campaign: Campaign;
  lifecycle: CampaignLifecycle;
  skipped: Record<string, number>;
  devices: AsyncIterable<DeviceRecord>;
  windows: readonly RateWindow[];
  /** The campaign's call timeline (`readCallTimeline`). */
  calls: readonly TimelineBucket[];
  budgetScope: 'family' | 'shared';
  nowMs: number;
}): Promise<ReportData> {
  const { campaign, lifecycle } = input;
  const outcomes: Record<string, number> = {};
  const noAction: Record<string, number> = {};
  const actionStatuses: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const proof = {
    completed: 0,
    cancelled: 0,
    failed: 0,
    ambiguous: 0,
    noEvidence: 0,
    unverified: 0,
    withAction: 0,
  };
  const cancels = { cancelled: 0, alreadyFinal: 0, refused: 0 };
  const findings: ReportFindings = {
    checked: 0,
    withDetections: 0,
    unremediated: 0,
    alerted: 0,
    detections: 0,
    devices: [],
  };
  const requestTimes: number[] = [];
  let devices = 0;
  let joined = 0;
  for await (const d of input.devices) {
    devices += 1;
    bump(outcomes, d.state);
    if (d.joinedExisting) joined += 1;
    if (d.state === 'failed') bump(failures, d.reason ?? 'unknown');
    if (d.requestedAt !== null && d.state === 'requested') requestTimes.push(d.requestedAt);
    const hasAction = d.state === 'requested' && d.machineActionId !== null;
    bump(actionStatuses, hasAction ? (d.actionStatus ?? 'unknown') : 'none');
    if (!hasAction) bump(noAction, d.state);
    if (hasAction) {
      proof.withAction += 1;
      if (d.scanResult === 'completed') proof.completed += 1;
      else if (d.scanResult === 'cancelled') proof.cancelled += 1;
      else if (d.scanResult === 'failed') proof.failed += 1;
      else if (d.scanResult === 'ambiguous') proof.ambiguous += 1;
      else if (d.scanResult === 'no-evidence') proof.noEvidence += 1;
      else proof.unverified += 1;
    }
    if (d.threats) addFound(findings, d.machineId, d.hostname ?? null, d.threats);
    if (d.cancelResult === 'cancelled') cancels.cancelled += 1;
    else if (d.cancelResult === 'already-final') cancels.alreadyFinal += 1;
    else if (d.cancelResult === 'refused') cancels.refused += 1;
  }
  requestTimes.sort((a, b) => a - b);
  const first = requestTimes[0] ?? null;
  const last = requestTimes.at(-1) ?? null;
  const schedule = (campaign as unknown as Record<string, unknown>)['schedule'];
  return {
    generatedAt: new Date(input.nowMs).toISOString(),
    campaign: {
      id: campaign.id,
      name: campaign.name,
      comment: campaign.comment,
      createdBy: campaign.createdBy,
      createdAt: new Date(campaign.createdAt).toISOString(),
      source: campaign.source,
      scanType: campaign.scanType,
      state: campaign.state,
      tenant: campaign.tenant,
      priority: campaign.priority,
      finishedAt: iso(campaign.finishedAt),
      schedule: typeof schedule === 'string' && schedule !== '' ? schedule : null,
      ...(archivedOf(campaign) ?? {}),
    },
    targets: { devices, skipped: input.skipped },
    outcomes,
    joinedExisting: joined,
    actionStatuses,
    noAction,
    proof: { verifiedAt: iso(lifecycle.verifiedAt), ...proof },
    findings: {
      ...findings,
      devices: findings.devices.sort(worstFirst).slice(0, MAX_FOUND_LISTED),
    },
    cancels,
    failures,
    tracking: {
      settledAt: iso(lifecycle.settledAt),
      endedAt: iso(lifecycle.trackingEndedAt),
      openAtEnd: lifecycle.openAtEnd,
    },
    calls: callsReport(input.calls, input.windows, input.budgetScope),
    duration: {
      firstRequestAt: iso(first),
      lastRequestAt: iso(last),
      ms: first !== null && last !== null ? last - first : null,
      requests: requestTimes.length,
      floorMs: durationFloorMs(requestTimes.length, input.windows),
      caps: [...input.windows].sort((a, b) => a.windowMs - b.windowMs),
    },
  };
}
