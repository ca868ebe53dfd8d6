import type { Campaign } from '../../../campaigns/campaign.js';
import { formatDuration } from '../../../config/duration.js';
import type { BudgetReport, CampaignStatus } from './campaign-status.js';
import { count, describeEta, formatTable, progressBar } from './output.js';

export function describeBudget(budget: BudgetReport, now = Date.now()): string {
  const windows = budget.windows
    .map(
      (w) =>
        `${count(w.used)}/${count(w.cap)} per ${formatDuration(w.windowMs)}` +
        (w.reserve ? ` (${count(w.reserve)} reserved for urgent)` : ''),
    )
    .join(', ');
  const paused =
    budget.pausedUntil !== null && budget.pausedUntil > now
      ? `, paused after a 429 for ${formatDuration(budget.pausedUntil - now)}`
      : '';
  return `budget ${budget.id} (scan calls): ${windows || 'no windows'}${paused}`;
}

/** The human view of one campaign. */
export function renderCampaign(status: CampaignStatus): string {
  const c = status.campaign;
  const rows: [string, number, string][] = [
    ['queued', c.counts.queued, ''],
    ['deferred', c.counts.deferred, `busy devices; ${count(c.deferrals)} deferrals so far`],
    ['requested', c.counts.requested, `MachineAction ids recorded; ${count(c.joinedExisting)} joined an existing action`],
    ['failed', c.counts.failed, ''],
    ['cancelled', c.counts.cancelled, ''],
  ]; // prettier-ignore
  const failures = Object.entries(c.failuresByReason).sort((a, b) => b[1] - a[1]);
  const eta = status.eta
    ? `ETA ${describeEta(status.eta.ms)}` +
      (status.eta.aheadInQueue > 0
        ? `, after ${count(status.eta.aheadInQueue)} calls of other campaigns of its budget`
        : '')
    : c.state === 'paused'
      ? 'ETA: paused (`fleetscan resume` to continue)'
      : `ended ${c.finishedAt === null ? '' : new Date(c.finishedAt).toISOString()}`;
  return [
    `Campaign ${c.id} "${c.name}": ${c.state} (${c.scanType} scan, tenant ${c.tenant}, ${c.priority})`,
    `  created ${new Date(c.createdAt).toISOString()} by ${c.createdBy} from ${c.source}`,
    `  comment: ${c.comment}`,
    ...(c.intakeOpen === true
      ? [
          '  devices are still being added (or that was interrupted: re-run scan with --campaign-id)',
        ]
      : []),
    `  ${count(c.total)} devices ${progressBar(c.total - status.remaining, c.total)}`,
    ...formatTable(
      ['', '', ''],
      rows.map(([s, n, note]) => [`  ${s}`, count(n), note]),
    )
      .split('\n')
      .slice(1),
    ...(failures.length > 0 ? ['  failures by reason:'] : []),
    ...failures.map(([reason, n]) => `    ${count(n).padStart(7)}  ${reason}`),
    `  ${describeBudget(status.budget)}`,
    `  ${eta}`,
  ].join('\n');
}

/** The table of every campaign (status without an id). */
export function renderCampaignTable(campaigns: readonly Campaign[]): string {
  if (campaigns.length === 0) return 'No campaigns yet. Start one with `fleetscan scan --help`.';
  return formatTable(
    [
      'ID',
      'NAME',
      'TENANT',
      'CLASS',
      'STATE',
      'TOTAL',
      'QUEUED',
      'DEFERRED',
      'REQUESTED',
      'FAILED',
      'CANCELLED',
      'CREATED',
    ],
    campaigns.map((c) => [
      c.id,
      c.name.length > 30 ? `${c.name.slice(0, 29)}…` : c.name,
      c.tenant,
      c.priority,
      c.state,
      count(c.total),
      count(c.counts.queued),
      count(c.counts.deferred),
      count(c.counts.requested),
      count(c.counts.failed),
      count(c.counts.cancelled),
      `${new Date(c.createdAt).toISOString().slice(0, 16)}Z`,
    ]),
  );
}

/** One progress line for `--wait` (a bar redrawn in place on a TTY, a plain line otherwise). */
export function renderProgress(status: CampaignStatus): string {
  const c = status.campaign;
  const done = c.total - status.remaining;
  const eta = status.eta ? ` ETA ${status.eta.ms > 0 ? formatDuration(status.eta.ms) : 'now'}` : '';
  return (
    `${c.id} [${c.tenant}, ${c.priority}] ${progressBar(done, c.total)} ${count(done)}/${count(c.total)} ` +
    `requested ${count(c.counts.requested)}, failed ${count(c.counts.failed)}, ` +
    `deferred ${count(c.counts.deferred)}, ${c.state}${eta}`
  );
}
