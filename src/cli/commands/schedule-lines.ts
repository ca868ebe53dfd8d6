import { formatDuration } from '../../config/duration.js';
import type { FireRecord } from '../../schedules/schedule.js';
import { instant } from '../../schedules/schedule-view.js';
import { count } from './shared/output.js';

/** One fire, as `schedule list`, `show`, `history` and `trigger` print it. */
export function lastRunText(r: FireRecord): string {
  return `${r.outcome} ${new Date(r.planned).toISOString().slice(0, 16)}Z${r.campaignId ? ` ${r.campaignId}` : ''}`;
}

export function historyLine(r: FireRecord, tz: string): string {
  const planned = instant(r.planned, tz);
  const late = Math.round((r.actual - r.planned) / 1000);
  return (
    `${planned.local} (${planned.utc.slice(0, 19)}Z) +${String(late)}s ${r.outcome}` +
    (r.manual ? ' (triggered)' : '') +
    (r.campaignId ? ` ${r.campaignId}` : '') +
    (r.counts ? ` ${count(r.counts.queued)} queued` : '') +
    (r.reason ? `: ${r.reason}` : '')
  );
}

/** `1h 00m`, `10m`, `30s` as the flags are written; `none` for 0. */
export function spanOrNone(ms: number): string {
  return ms === 0 ? 'none' : formatDuration(ms);
}
