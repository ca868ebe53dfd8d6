import type { Campaign } from '../../../campaigns/campaign.js';
import { failureCode, groupFailures } from '../../../campaigns/failure-groups.js';
import { formatDuration } from '../../../config/duration.js';
import { describeBlocked } from '../../../lanes/blocked-tenants.js';
import { describeWorker, NO_WORKERS_FIX, type LiveWorker } from '../../../ops/worker-presence.js';
import type { CampaignFindings } from '../../../tracking/lifecycle-store.js';
import type { BudgetReport, CampaignStatus } from './campaign-status.js';
import { count, describeEta, formatTable, progressBar } from './output.js';

export function describeBudget(budget: BudgetReport, now = Date.now()): string {
  const windows = budget.windows
    .map(
      (w) =>
        `${count(w.used)}/${count(w.cap)} per ${formatDuration(w.windowMs)}` +
        // Adaptive budget (issue 17): the effective cap learned below the configured one.
        (w.configuredCap !== undefined && w.configuredCap !== w.cap
          ? ` (effective cap; configured ${count(w.configuredCap)})`
          : '') +
        (w.reserve ? ` (${count(w.reserve)} reserved for urgent)` : ''),
    )
    .join(', ');
  const paused =
    budget.pausedUntil !== null && budget.pausedUntil > now
      ? `, paused after a 429 for ${formatDuration(budget.pausedUntil - now)}`
      : '';
  const lowered = budget.lastDecrease
    ? `; last lowered ${new Date(budget.lastDecrease.at).toISOString()}: ${budget.lastDecrease.reason}`
    : '';
  const blocked = budget.blocked ? `; BLOCKED (${budget.blocked.reason})` : '';
  return `budget ${budget.id} (scan calls): ${windows || 'no windows'}${paused}${lowered}${blocked}`;
}

/** The human view of one campaign. */
export function renderCampaign(status: CampaignStatus): string {
  const c = status.campaign;
  const rows: [string, number, string][] = [
    ['queued', c.counts.queued, ''],
    ['deferred', c.counts.deferred, `busy devices; ${count(c.deferrals)} deferrals so far${describeNextRetry(status, '; ')}`],
    ['requested', c.counts.requested, `MachineAction ids recorded; ${count(c.joinedExisting)} joined an existing action`],
    ['failed', c.counts.failed, ''],
    ['cancelled', c.counts.cancelled, ''],
  ]; // prettier-ignore
  const failures = groupFailures(c.failuresByReason);
  const blocked = status.done ? null : (status.budget.blocked ?? null);
  const eta = blocked
    ? `no ETA: ${describeBlocked(c.tenant, blocked)}`
    : status.noWorkers
      ? describeNoWorkers(c)
      : status.eta
        ? (status.eta.waitingFor ? `${describeWait(status.eta.waitingFor)}; ` : '') +
          `ETA ${describeEta(status.eta.ms)}` +
          describeNextRetry(status, ', ') +
          (status.eta.aheadInQueue > 0
            ? `, after ${count(status.eta.aheadInQueue)} calls of other campaigns of its budget`
            : '')
        : describeStill(c);
  return [
    `Campaign ${c.id} "${c.name}": ${c.state} (${c.scanType} scan, tenant ${c.tenant}, ${c.priority})`,
    `  created ${new Date(c.createdAt).toISOString()} by ${c.createdBy} from ${c.source}`,
    `  comment: ${c.comment}`,
    ...(c.intakeOpen === true
      ? [
          '  devices are still being added (a scan that was interrupted lets go a minute later; re-run scan with --campaign-id to add the rest)',
        ]
      : []),
    `  ${count(c.total)} devices ${progressBar(c.total - status.remaining, c.total)}`,
    ...formatTable(
      ['', '', ''],
      rows.map(([s, n, note]) => [`  ${s}`, count(n), note]),
    )
      .split('\n')
      .slice(1),
    ...(failures.length > 0
      ? ["  failures by code (each device's full reason: fleetscan export):"]
      : []),
    ...failures.flatMap((g) => [
      `    ${count(g.count).padStart(7)}  ${g.code}`,
      ...g.messages
        .slice(0, 3)
        .map((m) => `             ${count(m.count)} × ${clip(m.message, 90)}`),
      ...(g.messages.length > 3
        ? [`             … ${count(g.messages.length - 3)} more messages`]
        : []),
    ]),
    ...(status.failedDevices.length > 0
      ? [
          `  failed devices${c.counts.failed > status.failedDevices.length ? ` (${count(status.failedDevices.length)} of ${count(c.counts.failed)}; all: fleetscan export ${c.id})` : ''}:`,
          ...status.failedDevices.map(
            (d) =>
              `    ${d.hostname ? `${d.hostname} ` : ''}${d.machineId}  ${failureCode(d.reason ?? '').code}`,
          ),
        ]
      : []),
    ...describeLifecycle(status),
    ...describeWorkers(status.workers).map((line) => `  ${line}`),
    `  ${describeBudget(status.budget)}`,
    `  ${eta}`,
  ].join('\n');
}

/** Tracking and proof lines: "proved complete: X of N" once `verify` ran. */
function describeLifecycle(status: CampaignStatus): string[] {
  const l = status.lifecycle;
  if (!l) return [];
  const lines: string[] = [];
  if (l.settledAt !== null)
    lines.push(`  actions settled ${new Date(l.settledAt).toISOString()} (every action terminal)`);
  else if (l.trackingEndedAt !== null)
    lines.push(
      `  tracking ended at the horizon with ${count(l.openAtEnd ?? 0)} actions still open`,
    );
  if (l.proof) {
    const p = l.proof;
    const total = Object.values(p).reduce((a, b) => a + b, 0);
    lines.push(
      `  proved complete: ${count(p.completed)} of ${count(total)} (cancelled ${count(p.cancelled)}, ` +
        `failed ${count(p.failed)}, ambiguous ${count(p.ambiguous)}, no evidence ${count(p['no-evidence'])})`,
    );
  }
  if (l.findings) lines.push(`  ${describeFindings(l.findings, status.campaign.id)}`);
  const k = l.cancels;
  if (k.cancelled + k['already-final'] + k.refused > 0) {
    lines.push(
      `  kill switch: ${count(k.cancelled)} actions cancelled, ${count(k['already-final'])} already final, ${count(k.refused)} refused`,
    );
  }
  return lines;
}

/** "devices with detections: 3 of 160 (1 not remediated, 2 with new alerts; 5 detections)". */
export function describeFindings(f: CampaignFindings, campaignId: string): string {
  if (f.devices === 0) return `devices with detections: none of ${count(f.checked)} checked`;
  return (
    `devices with detections: ${count(f.devices)} of ${count(f.checked)} ` +
    `(${count(f.unremediatedDevices)} not remediated, ${count(f.alertedDevices)} with new alerts; ` +
    `${count(f.detections)} detections): fleetscan export ${campaignId} lists them`
  );
}

function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** `no workers: …` in place of an ETA: devices wait and nothing serves the campaign's tenant. */
export function describeNoWorkers(c: Campaign): string {
  return `no workers: no live worker serves tenant ${c.tenant}, so nothing is called for. ${NO_WORKERS_FIX}`;
}

/** `workers: 2 live` and one line each, or `workers: none live`. */
export function describeWorkers(workers: readonly LiveWorker[]): string[] {
  if (workers.length === 0) return ['workers: none live'];
  return [
    `workers: ${count(workers.length)} live`,
    ...workers.map((worker) => `  ${describeWorker(worker)}`),
  ];
}

/** The last line of a campaign that does not move: paused, finished, cancelled (never `ended `). */
export function describeStill(c: Campaign): string {
  const at = c.finishedAt === null ? '' : ` at ${new Date(c.finishedAt).toISOString()}`;
  if (c.state === 'paused') return `paused: no ETA (\`fleetscan resume ${c.id}\` to continue)`;
  if (c.state === 'cancelled')
    return `cancelled${at}: ${count(c.counts.cancelled)} devices were never called for`;
  if (c.state === 'finished') return `finished${at}`;
  return 'no ETA: waiting for devices to be added';
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

/** `the hour window`, `the minute window`, `the 30s window`. */
export function windowName(windowMs: number): string {
  if (windowMs === 3_600_000) return 'the hour window';
  if (windowMs === 60_000) return 'the minute window';
  return `the ${formatDuration(windowMs)} window`;
}

/** `14:32` in local time, with seconds when it is less than 10 minutes away. */
export function clockTime(iso: string, now = Date.now()): string {
  const at = new Date(iso);
  const soon = at.getTime() - now < 600_000;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}` + (soon ? `:${pad(at.getSeconds())}` : '');
}

/**
 * `waiting for the hour window until 14:32`, or, when only the urgent reserve fills it for this
 * campaign's class, `waiting: urgent reserve 100 of 1,500/30s until 14:32:10`.
 */
export function describeWait(
  wait: { windowMs: number; until: string; cap?: number; reserve?: number },
  now = Date.now(),
): string {
  const until = clockTime(wait.until, now);
  if (wait.reserve !== undefined && wait.cap !== undefined)
    return `waiting: urgent reserve ${count(wait.reserve)} of ${count(wait.cap)}/${formatDuration(wait.windowMs)} until ${until}`;
  return `waiting for ${windowName(wait.windowMs)} until ${until}`;
}

/** `, next retry 14:32:10 (2 busy devices)` while devices wait for a retry time; else ''. */
export function describeNextRetry(
  status: Pick<CampaignStatus, 'nextAttemptAt' | 'devicesDue'>,
  separator: string,
  now = Date.now(),
): string {
  if (status.nextAttemptAt === null) return '';
  const devices = status.devicesDue === 1 ? '1 device' : `${count(status.devicesDue)} devices`;
  return `${separator}next retry ${clockTime(status.nextAttemptAt, now)} (${devices} waiting)`;
}

/** One progress line for `--wait` (a bar redrawn in place on a TTY, a plain line otherwise). */
export function renderProgress(status: CampaignStatus): string {
  const c = status.campaign;
  const done = c.total - status.remaining;
  const wait = status.eta?.waitingFor ? `, ${describeWait(status.eta.waitingFor)}` : '';
  const blocked = status.done ? null : (status.budget.blocked ?? null);
  const eta = blocked
    ? `, tenant BLOCKED (${blocked.reason}), next probe ${blocked.nextProbeAt}`
    : status.noWorkers
      ? ', no workers'
      : status.eta
        ? `${wait} ETA ${status.eta.ms > 0 ? formatDuration(status.eta.ms) : 'now'}`
        : '';
  return (
    `${c.id} [${c.tenant}, ${c.priority}] ${progressBar(done, c.total)} ${count(done)}/${count(c.total)} ` +
    `requested ${count(c.counts.requested)}, failed ${count(c.counts.failed)}, ` +
    `deferred ${count(c.counts.deferred)}${describeNextRetry(status, ', ')}, ${c.state}${eta}`
  );
}
