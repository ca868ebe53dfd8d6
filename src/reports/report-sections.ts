import { formatDuration, type RateWindow } from '../config/duration.js';
import type { ReportData } from './report-data.js';
import { proofVerdict } from './report-headline.js';

export interface ReportSection {
  title: string;
  /** What the numbers mean, when the title alone does not say it. */
  note?: string;
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

/** What `fleetscan scan` left out, by reason (`recordIntake`), in words. */
const SKIP_REASONS: Readonly<Record<string, string>> = {
  invalid: 'not a device id (lines of the file)',
  duplicate: 'listed twice',
  'invalid-id': 'id the API gave is not a device id',
  merged: 'merged into another device',
  excluded: 'excluded in Defender',
  'not-onboarded': 'not onboarded',
  'unsupported-platform': 'platform cannot run an antivirus scan',
  inactive: 'not Active (inactive or no sensor data)',
};

/** `file:devices.csv`, `query:… tag:a,b group:g` or `all` as labelled rows. */
export function describeSource(source: string): [string, string][] {
  if (source === 'all') return [['Source', 'every device of the tenant (List Machines)']];
  if (source.startsWith('file:')) return [['Source', `device file ${source.slice(5)}`]];
  const rows: [string, string][] = [['Source', 'List Machines']];
  const labels: Readonly<Record<string, string>> = {
    query: 'Filter ($filter)',
    tag: 'Tags',
    group: 'Device group',
  };
  // `describeTargets` joins `kind:value` parts with spaces; a query may hold spaces itself.
  for (const part of source.split(/ (?=(?:query|tag|group):)/)) {
    const colon = part.indexOf(':');
    const kind = part.slice(0, colon);
    rows.push([labels[kind] ?? 'Source', colon < 0 ? part : part.slice(colon + 1)]);
  }
  return rows;
}

function targetRows(data: ReportData): [string, string][] {
  const skipped = Object.entries(data.targets.skipped)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const skippedTotal = skipped.reduce((sum, [, v]) => sum + v, 0);
  return [
    ...describeSource(data.campaign.source),
    ['Tenant', data.campaign.tenant],
    ['Devices in the campaign', n(data.targets.devices)],
    ['Left out when the campaign was made', skippedTotal === 0 ? 'none' : n(skippedTotal)],
    ...skipped.map(([reason, v]): [string, string] => [
      `· ${SKIP_REASONS[reason] ?? reason}`,
      n(v),
    ]),
  ];
}

/** Devices without an action, by why: the `none` of the action statuses. */
function actionStatusRows(data: ReportData): [string, string][] {
  const why: Readonly<Record<string, string>> = {
    cancelled: 'no action: campaign cancelled first',
    failed: 'no action: request failed',
    queued: 'no action yet: queued',
    deferred: 'no action yet: device busy, retried later',
  };
  const withAction = byCount(
    Object.fromEntries(Object.entries(data.actionStatuses).filter(([k]) => k !== 'none')),
  );
  return [
    ...withAction,
    ...byCount(data.noAction).map(([state, v]): [string, string] => [why[state] ?? state, v]),
  ];
}

/** A window as operators write it: `1 min`, `1 h`, `600 ms`, `36 s`. */
export function windowText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${String(ms / 3_600_000)} h`;
  if (ms % 60_000 === 0) return `${String(ms / 60_000)} min`;
  if (ms % 1_000 === 0) return `${String(ms / 1_000)} s`;
  return `${String(ms)} ms`;
}

const capsText = (caps: readonly RateWindow[]): string =>
  caps.map((w) => `${n(w.cap)} per ${windowText(w.windowMs)}`).join(' and ');

/** The floor in words: 0 alone reads as a fault when it means "one window holds them all". */
function floorText(data: ReportData): string {
  const { requests, floorMs, caps } = data.duration;
  if (requests === 0) return 'none (no scan request was recorded)';
  if (requests === 1) return 'none (one request)';
  if (floorMs === 0)
    return `none: ${n(requests)} requests fit in one window of every cap (${capsText(caps)})`;
  return `${formatDuration(floorMs)} for ${n(requests)} requests at ${capsText(caps)}`;
}

function provedText(data: ReportData): string {
  const p = data.proof;
  switch (proofVerdict(data)) {
    case 'no-actions':
      return 'nothing to prove (no action)';
    case 'not-verified':
      return `not verified (${n(p.withAction)} actions)`;
    default:
      return `${n(p.completed)} of ${n(p.withAction)}${pct(p.completed, p.withAction)}`;
  }
}

/**
 * "What the scans found", the report's first section: the devices with detections (not
 * remediated first), then the clean ones as a count. Before any verify: says so.
 */
export function findingsSection(data: ReportData): ReportSection {
  const f = data.findings;
  const title = 'What the scans found';
  if (f.checked === 0)
    return {
      title,
      note: 'Not checked yet: fleetscan verify (or verify.enabled) reads what Defender Antivirus detected during each scan.',
      rows: [],
    };
  const listed = f.devices.map(({ machineId, hostname, threats: t }): [string, string] => [
    hostname === null ? machineId : `${hostname} (${machineId})`,
    `${n(t.count)} detection${t.count === 1 ? '' : 's'}: ${t.names.join(', ')}; ` +
      (t.unremediated === 0 ? 'all remediated' : `${n(t.unremediated)} not remediated`) +
      (t.alerts === 0 ? '' : `; ${n(t.alerts)} new alert${t.alerts === 1 ? '' : 's'}`) +
      (t.files.length === 0 ? '' : `; ${t.files.join(', ')}`),
  ]);
  return {
    title,
    note:
      "Defender Antivirus detections from each device's scan request to the end of its scan plus " +
      'verify.findingsGrace, and new alerts on the device (fleetscan verify); clean devices are counted, not listed.',
    rows: [
      ['Devices with detections', `${n(f.withDetections)} of ${n(f.checked)} checked`],
      ['· not remediated', n(f.unremediated)],
      ['· with new alerts', n(f.alerted)],
      ['Detections', n(f.detections)],
      ['Clean (nothing detected)', n(f.checked - f.withDetections)],
      ...listed,
      ...(f.withDetections > listed.length
        ? [
            ['…', `${n(f.withDetections - listed.length)} more in fleetscan export`] as [
              string,
              string,
            ],
          ]
        : []),
    ],
  };
}

/** The report as titled label/value tables: one source for the Markdown and the HTML. */
export function reportSections(data: ReportData): ReportSection[] {
  const c = data.campaign;
  const p = data.proof;
  return [
    // First: the question after a mass scan is which devices found something (issue 28).
    findingsSection(data),
    {
      title: 'Campaign',
      rows: [
        ['Id', c.id],
        ['Name', c.name],
        ['Requested by', c.createdBy],
        ['Created', c.createdAt],
        ['Comment', c.comment],
        ['Schedule', or(c.schedule, 'none (run by hand)')],
        ['Scan type', c.scanType],
        ['Priority', c.priority],
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
    { title: 'Targets', rows: targetRows(data) },
    {
      title: 'Outcomes',
      rows: [...byCount(data.outcomes), ['joined an existing action', n(data.joinedExisting)]],
    },
    {
      title: 'Action statuses',
      note: "Each device's MachineAction by the last status Defender reported; devices without one by why.",
      rows: actionStatusRows(data),
    },
    {
      title: 'Proof of completion',
      rows: [
        ['Proved complete', provedText(data)],
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
      ...(data.cancels.cancelled + data.cancels.alreadyFinal + data.cancels.refused === 0
        ? { note: 'Not used for this campaign (fleetscan cancel --actions).' }
        : {}),
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
        ['Least time the caps allow', floorText(data)],
      ],
    },
    {
      title: 'API calls',
      rows: [
        ['Calls made for the campaign', n(data.calls.total)],
        ...Object.entries(data.calls.byFamily)
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([family, v]): [string, string] => [`${family} calls`, n(v)]),
        ...data.calls.charts.map((w): [string, string] => [
          `Busiest ${windowText(w.window.windowMs)}${w.family === null ? '' : ` of ${w.family}`}`,
          `${n(w.busiest)} of ${n(w.window.cap)} allowed`,
        ]),
      ],
    },
  ];
}
