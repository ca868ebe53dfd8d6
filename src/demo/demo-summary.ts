import type { DemoDashboardFacts } from './dashboard-facts.js';
import { groupFailures } from '../campaigns/failure-groups.js';
import type { Campaign } from '../campaigns/campaign.js';
import { estimateCompletion } from '../campaigns/eta.js';
import { formatDuration, type RateWindow } from '../config/duration.js';
import {
  maxInAnyWindow,
  type CallRecord,
  type SimulatorStats,
} from '../simulator/build-simulator.js';

export interface DemoSummary {
  campaignId: string;
  devices: number;
  counts: Campaign['counts'];
  joinedExisting: number;
  /** Busy answers: those devices waited for someone else's scan to end, whatever the budget. */
  deferrals: number;
  failuresByReason: Record<string, number>;
  /** Distinct MachineAction ids recorded in the campaign. */
  actionsRecorded: number;
  simulator: {
    calls: number;
    scanCalls: number;
    throttled: number;
    faults: number;
    lostReplies: number;
    actionsCreated: number;
  };
  /** The most scan calls the simulator saw in any sliding span of each window. */
  busiestWindows: { cap: number; windowMs: number; max: number }[];
  /** Wall time from the campaign's creation to its end. */
  elapsedMs: number;
  /** First to last scan call, as the simulator saw them arrive. */
  scanSpanMs: number;
  /** The least time those devices' calls can take under every window at once (first to last call). */
  floorMs: number;
  /** floorMs / scanSpanMs: 1 is as fast as the API allows; null when every call fits in one window. */
  shareOfFloor: number | null;
  timeScale: number;
  exportPath: string;
  /** With `--dashboard`: where to sign in and as whom (the demo then runs until Ctrl-C). */
  dashboard?: DemoDashboardFacts;
}

export function summarize(input: {
  campaign: Campaign;
  actionIds: ReadonlySet<string>;
  stats: SimulatorStats;
  calls: readonly CallRecord[];
  /** The simulator's windows (what the server enforces), on its compressed clock. */
  windows: readonly RateWindow[];
  elapsedMs: number;
  timeScale: number;
  exportPath: string;
}): DemoSummary {
  const scanTimes = input.calls.filter((c) => c.family === 'scan').map((c) => c.t);
  const scanSpanMs = scanTimes.length > 1 ? Math.max(...scanTimes) - Math.min(...scanTimes) : 0;
  const floorMs = Math.max(
    0,
    estimateCompletion({ remaining: input.campaign.total, windows: input.windows, usedNow: [] }),
  );
  return {
    campaignId: input.campaign.id,
    devices: input.campaign.total,
    counts: input.campaign.counts,
    joinedExisting: input.campaign.joinedExisting,
    deferrals: input.campaign.deferrals,
    failuresByReason: input.campaign.failuresByReason,
    actionsRecorded: input.actionIds.size,
    simulator: {
      calls: input.stats.calls,
      scanCalls: input.stats.byFamily.scan,
      throttled: input.stats.throttled,
      faults: input.stats.faults,
      lostReplies: input.stats.lostReplies,
      actionsCreated: input.stats.actionsCreated,
    },
    busiestWindows: input.windows.map((w) => ({
      ...w,
      max: maxInAnyWindow(scanTimes, w.windowMs),
    })),
    elapsedMs: input.elapsedMs,
    scanSpanMs,
    floorMs,
    shareOfFloor: floorMs > 0 && scanSpanMs > 0 ? Math.min(1, floorMs / scanSpanMs) : null,
    timeScale: input.timeScale,
    exportPath: input.exportPath,
  };
}

/**
 * The span against the least the windows allow. With no more calls than the smallest cap the
 * least is 0 (all may go at once), and a share of it would read as 0 %: say so instead.
 */
function describeFloor(s: DemoSummary): string {
  if (s.shareOfFloor === null) {
    return 'every call fit in the first window (no wait was needed)';
  }
  return `best possible ${formatDuration(s.floorMs)} (${String(Math.round(s.shareOfFloor * 100))} % of the fastest the API allows)`;
}

export function formatSummary(s: DemoSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const d = (ms: number) => formatDuration(ms);
  const reasons = groupFailures(s.failuresByReason).flatMap((g) => [
    `    ${n(g.count)} × ${g.code}`,
    ...g.messages.map((m) => `      ${n(m.count)} × ${m.message}`),
  ]);
  return [
    '',
    `Campaign ${s.campaignId} finished: ${n(s.devices)} devices`,
    `  requested ${n(s.counts.requested)} (joined an existing action: ${n(s.joinedExisting)}), ` +
      `failed ${n(s.counts.failed)}, cancelled ${n(s.counts.cancelled)}, still waiting ${n(s.counts.queued + s.counts.deferred)}`,
    ...reasons,
    `  MachineActions recorded: ${n(s.actionsRecorded)} distinct ids`,
    `  Simulator: ${n(s.simulator.calls)} API calls (${n(s.simulator.scanCalls)} scans), 429s: ${n(s.simulator.throttled)}, ` +
      `5xx injected: ${n(s.simulator.faults)}, replies lost: ${n(s.simulator.lostReplies)}, actions created: ${n(s.simulator.actionsCreated)}`,
    `  Busiest sliding window of scan calls: ${s.busiestWindows.map((w) => `${n(w.max)}/${n(w.cap)} per ${d(w.windowMs)}`).join(', ')}`,
    `  Time: ${d(s.elapsedMs)} in all; scans from first to last ${d(s.scanSpanMs)}, ${describeFloor(s)}`,
    ...(s.deferrals > 0
      ? [
          `  (${n(s.deferrals)} busy answers: those devices waited for another scan to end, which no budget shortens)`,
        ]
      : []),
    `  At real speed (×${s.timeScale}): ${d(s.scanSpanMs * s.timeScale)} against a best possible ${d(s.floorMs * s.timeScale)}`,
    `  Export (CSV): ${s.exportPath}`,
    '',
  ].join('\n');
}
