import type { Campaign, DeviceRecord } from '../campaigns/campaign.js';
import type { RateWindow } from '../config/duration.js';
import { isArchived } from '../retention/campaign-reader.js';
import type { CampaignLifecycle } from '../tracking/lifecycle-store.js';

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
  proof: {
    verifiedAt: string | null;
    completed: number;
    cancelled: number;
    failed: number;
    noEvidence: number;
    /** Devices with an action but no verify result (verify not run, or run before they had one). */
    unverified: number;
    /** Devices with an action: the denominator of "proved complete". */
    withAction: number;
  };
  cancels: { cancelled: number; alreadyFinal: number; refused: number };
  failures: Record<string, number>;
  tracking: { settledAt: string | null; endedAt: string | null; openAtEnd: number | null };
  calls: {
    /** The shortest configured window: the chart's bucket. */
    window: RateWindow;
    /** Scan requests recorded per bucket, from the first one on. */
    buckets: { start: string; requests: number }[];
    busiestBucket: number;
  };
  duration: {
    firstRequestAt: string | null;
    lastRequestAt: string | null;
    ms: number | null;
    /** The least time the configured caps allow for this many requests. */
    floorMs: number;
  };
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

/** Builds the report from the campaign, its lifecycle record and one pass over its devices. */
export async function buildReportData(input: {
  campaign: Campaign;
  lifecycle: CampaignLifecycle;
  skipped: Record<string, number>;
  devices: AsyncIterable<DeviceRecord>;
  windows: readonly RateWindow[];
  nowMs: number;
}): Promise<ReportData> {
  const { campaign, lifecycle } = input;
  const outcomes: Record<string, number> = {};
  const actionStatuses: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const proof = {
    completed: 0,
    cancelled: 0,
    failed: 0,
    noEvidence: 0,
    unverified: 0,
    withAction: 0,
  };
  const cancels = { cancelled: 0, alreadyFinal: 0, refused: 0 };
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
    if (hasAction) {
      proof.withAction += 1;
      if (d.scanResult === 'completed') proof.completed += 1;
      else if (d.scanResult === 'cancelled') proof.cancelled += 1;
      else if (d.scanResult === 'failed') proof.failed += 1;
      else if (d.scanResult === 'no-evidence') proof.noEvidence += 1;
      else proof.unverified += 1;
    }
    if (d.cancelResult === 'cancelled') cancels.cancelled += 1;
    else if (d.cancelResult === 'already-final') cancels.alreadyFinal += 1;
    else if (d.cancelResult === 'refused') cancels.refused += 1;
  }
  requestTimes.sort((a, b) => a - b);
  const window = [...input.windows].sort((a, b) => a.windowMs - b.windowMs)[0] ?? {
    cap: 100,
    windowMs: 60_000,
  };
  const first = requestTimes[0] ?? null;
  const last = requestTimes.at(-1) ?? null;
  const buckets: { start: string; requests: number }[] = [];
  if (first !== null && last !== null) {
    const n = Math.floor((last - first) / window.windowMs) + 1;
    // A very long campaign is shown in at most 500 bars: later buckets merge into the last one.
    const counts = new Array<number>(Math.min(n, 500)).fill(0);
    for (const t of requestTimes) {
      const i = Math.min(Math.floor((t - first) / window.windowMs), counts.length - 1);
      counts[i] = (counts[i] ?? 0) + 1;
    }
    counts.forEach((requests, i) => {
      buckets.push({ start: new Date(first + i * window.windowMs).toISOString(), requests });
    });
  }
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
      finishedAt: iso(campaign.finishedAt),
      schedule: typeof schedule === 'string' && schedule !== '' ? schedule : null,
      ...(archivedOf(campaign) ?? {}),
    },
    targets: { devices, skipped: input.skipped },
    outcomes,
    joinedExisting: joined,
    actionStatuses,
    proof: { verifiedAt: iso(lifecycle.verifiedAt), ...proof },
    cancels,
    failures,
    tracking: {
      settledAt: iso(lifecycle.settledAt),
      endedAt: iso(lifecycle.trackingEndedAt),
      openAtEnd: lifecycle.openAtEnd,
    },
    calls: { window, buckets, busiestBucket: Math.max(0, ...buckets.map((b) => b.requests)) },
    duration: {
      firstRequestAt: iso(first),
      lastRequestAt: iso(last),
      ms: first !== null && last !== null ? last - first : null,
      floorMs: durationFloorMs(requestTimes.length, input.windows),
    },
  };
}
