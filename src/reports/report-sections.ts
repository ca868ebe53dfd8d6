import { formatDuration } from '../config/duration.js';
import type { ReportData } from './report-data.js';

export interface ReportSection {
  title: string;
  rows: [string, string][];
}

const n = (value: number): string => value.toLocaleString('en-US');
const or = (value: string | null, fallback = '—'): string => value ?? fallback;
const pct = (part: number, whole: number): string =>
  whole === 0 ? '' : ` (${((100 * part) / whole).toFixed(1)} %)`;

const byCount = (counts: Record<string, number>): [string, string][] =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => [k, n(v)]);

/** The report as titled label/value tables: one source for the Markdown and the HTML. */
export function reportSections(data: ReportData): ReportSection[] {
  const c = data.campaign;
  const p = data.proof;
  const floor = data.duration.floorMs;
  return [
    {
      title: 'Campaign',
      rows: [
        ['Id', c.id],
        ['Name', c.name],
        ['Requested by', c.createdBy],
        ['Created', c.createdAt],
        ['Comment', c.comment],
        ['Schedule', or(c.schedule, 'none (run by hand)')],
        ['Source', c.source],
        ['Scan type', c.scanType],
        ['State', c.state],
        ['Finished', or(c.finishedAt)],
        ...(c.archived
          ? [
              [
                'Archived',
                `${c.archived.at}, read from ${c.archived.file} (no longer in Redis)`,
              ] as [string, string],
            ]
          : []),
      ],
    },
    {
      title: 'Targets',
      rows: [
        ['Devices in the campaign', n(data.targets.devices)],
        ...Object.entries(data.targets.skipped).map(([reason, v]): [string, string] => [
          `Skipped: ${reason}`,
          n(v),
        ]),
      ],
    },
    {
      title: 'Outcomes',
      rows: [...byCount(data.outcomes), ['joined an existing action', n(data.joinedExisting)]],
    },
    { title: 'Action statuses', rows: byCount(data.actionStatuses) },
    {
      title: 'Proof of completion',
      rows: [
        [
          'Proved complete',
          `${n(p.completed)} of ${n(p.withAction)}${pct(p.completed, p.withAction)}`,
        ],
        ['Scan cancelled on the device', n(p.cancelled)],
        ['Scan failed on the device', n(p.failed)],
        ['Ambiguous (another scan of that kind overlapped)', n(p.ambiguous)],
        ['No evidence', n(p.noEvidence)],
        ['Not verified', n(p.unverified)],
        ['Verified at', or(p.verifiedAt, 'never (run fleetscan verify)')],
      ],
    },
    {
      title: 'Kill switch',
      rows: [
        ['Actions cancelled', n(data.cancels.cancelled)],
        ['Already final', n(data.cancels.alreadyFinal)],
        ['Refused', n(data.cancels.refused)],
      ],
    },
    { title: 'Failures by reason', rows: byCount(data.failures) },
    {
      title: 'Tracking',
      rows: [
        ['Settled (every action terminal)', or(data.tracking.settledAt, 'not yet')],
        ['Tracking ended at the horizon', or(data.tracking.endedAt)],
        [
          'Actions still open then',
          data.tracking.openAtEnd === null ? '—' : n(data.tracking.openAtEnd),
        ],
      ],
    },
    {
      title: 'Pace',
      rows: [
        ['First request', or(data.duration.firstRequestAt)],
        ['Last request', or(data.duration.lastRequestAt)],
        ['Duration', data.duration.ms === null ? '—' : formatDuration(data.duration.ms)],
        ['Floor under the caps', formatDuration(floor)],
      ],
    },
    {
      title: 'API calls',
      rows: [
        ['Calls made for the campaign', n(data.calls.total)],
        ...Object.entries(data.calls.byFamily)
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([family, v]): [string, string] => [`${family} calls`, n(v)]),
        ...data.calls.windows.map((w): [string, string] => [
          `Busiest ${formatDuration(w.window.windowMs)}`,
          `${n(w.busiest)} calls (cap ${n(w.window.cap)}${data.calls.budgetScope === 'family' ? ' per family' : ''})`,
        ]),
      ],
    },
  ];
}
