import type { CampaignRun } from './fleetscan-campaign.js';
import { formatApiTime, formatMs, formatRatio, type Cell } from './report.js';

/** Columns shared by the efficiency and alternatives tables. */
export const CAMPAIGN_COLUMNS = [
  'contender',
  'devices',
  'busy',
  'time',
  'calls',
  'floor',
  'span',
  'floor/span',
  '429s',
  'max in 60 s',
  'max in 3600 s',
  'duplicates',
  'first burst',
  'reuse delay',
  'longest gap',
  'first call after',
  'done after last call',
  'outcome',
] as const;

/** One row; API-time columns are real ms × factor, the overheads stay in real ms. */
export function campaignRow(run: CampaignRun): Cell[] {
  const f = run.spec.factor;
  return [
    run.contender,
    run.spec.devices,
    `${Math.round(run.spec.busyShare * 100)} %`,
    `×${f}`,
    run.calls.counted,
    formatApiTime(run.floorMs * f),
    formatApiTime(run.spanMs * f),
    formatRatio(run.efficiency),
    run.calls.throttled,
    run.calls.maxInWindow[0] ?? null,
    run.calls.maxInWindow[1] ?? null,
    run.calls.duplicateDevices,
    formatMs(run.calls.firstBurstSpreadMs),
    formatMs(run.calls.medianReuseDelayMs),
    formatMs(run.calls.longestGapMs),
    formatMs(run.firstCallAfterMs),
    formatMs(run.doneAfterLastCallMs),
    Object.entries(run.outcome)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  ];
}
