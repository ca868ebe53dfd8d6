import type { Campaign } from '../../campaigns/campaign.js';
import { groupFailures } from '../../campaigns/failure-groups.js';
import type { CampaignView } from '../overview.js';
import { formatCount, formatPercent, formatSpan, formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

const SEGMENTS = ['requested', 'failed', 'cancelled', 'deferred'] as const;

function stat(label: string, value: string, note: string | null = null, key = label): SafeHtml {
  return html`<div class="stat" data-stat="${key}">
    <dt>${label}</dt>
    <dd>${value}${note ? html` <small>${note}</small>` : ''}</dd>
  </div>`;
}

function etaText(view: CampaignView): string {
  const { campaign } = view;
  const at = formatTime(campaign.finishedAt).slice(11, 16);
  if (campaign.state === 'finished') return `done ${at}`;
  if (campaign.state === 'cancelled')
    return campaign.finishedAt === null ? 'cancelled' : `cancelled ${at}`;
  if (campaign.state !== 'running') return campaign.state;
  if (view.noWorkers === true) return 'no workers';
  // Only busy devices left: they wait for their retry time, not for the budget.
  if (campaign.counts.queued === 0 && campaign.counts.deferred > 0)
    return view.nextAttemptAt ? `busy, next retry ${formatClock(view.nextAttemptAt)}` : 'busy wait';
  return view.etaMs === null ? '—' : formatSpan(view.etaMs);
}

/** `14:32:10 UTC`: the time of day, on the clock `formatTime` writes. */
function formatClock(ms: number): string {
  return `${formatTime(ms).slice(11, 19)} UTC`;
}

/** Why a running campaign gets no call now, under its rate. */
function rateNote(view: CampaignView): string | null {
  if (view.waitingBehind === 'urgent') return 'waiting behind urgent';
  if (view.waitingBehind === 'reserve') return 'waiting: urgent reserve';
  return null;
}

/**
 * Failures grouped by code, largest first. Each group opens to its messages in full (long API
 * messages wrap instead of being cut), so nothing needs a tooltip to be read.
 */
function failureList(reasons: Record<string, number>): SafeHtml {
  const groups = groupFailures(reasons);
  if (groups.length === 0) return html``;
  return html`<div class="reasons" aria-label="Failures by code">
    ${groups.map(
      (group) =>
        html`<details class="reason-group">
          <summary>
            <span class="reason">${group.code}</span><b>${formatCount(group.count)}</b>
          </summary>
          ${
            group.messages.length > 0
              ? html`<ul>
                  ${group.messages.map(
                    (m) => html`<li><b>${formatCount(m.count)}</b> ${m.message}</li>`,
                  )}
                </ul>`
              : ''
          }
        </details>`,
    )}
  </div>`;
}

/**
 * The badge of a campaign: a finished campaign in which every device failed is not a success,
 * and one with some failures says so.
 */
export function campaignBadge(campaign: Campaign): { label: string; tone: string } {
  const { failed } = campaign.counts;
  if (campaign.state === 'finished' && campaign.total > 0 && failed >= campaign.total)
    return { label: 'all failed', tone: 'failed' };
  if (campaign.state === 'finished' && failed > 0)
    return { label: `finished, ${formatCount(failed)} failed`, tone: 'partial' };
  return { label: campaign.state, tone: campaign.state };
}

/**
 * Progress in words: a cancelled campaign did not "settle" its devices, it stopped calling, so
 * it says how many got a request and how many never did.
 */
function progressLabel(view: CampaignView): SafeHtml {
  const { campaign } = view;
  if (campaign.state === 'cancelled') {
    const requested = campaign.counts.requested;
    const never = campaign.total - requested - campaign.counts.failed;
    return html`<div class="progress-label" data-progress="cancelled">
      <strong class="percent">Cancelled</strong>
      <span
        >${formatCount(requested)} of ${formatCount(campaign.total)} devices got a scan request,
        ${formatCount(never)} never did</span
      >
    </div>`;
  }
  return html`<div class="progress-label">
    <strong class="percent">${formatPercent(view.percent)}</strong>
    <span>${formatCount(view.settled)} of ${formatCount(campaign.total)} devices settled</span>
  </div>`;
}

/** What the kill switch did, or that it was not used on a cancelled campaign. */
function killSwitchLine(view: CampaignView): SafeHtml {
  const result = view.killSwitch;
  if (result) {
    return html`<div class="kill-switch" data-kill-switch="used">
      Kill switch: <b>${formatCount(result.cancelled)}</b>
      ${result.cancelled === 1 ? 'action' : 'actions'} cancelled in Defender,
      ${formatCount(result.alreadyFinal)} already finished, ${formatCount(result.refused)} refused
    </div>`;
  }
  if (view.campaign.state !== 'cancelled') return html``;
  return html`<div class="kill-switch" data-kill-switch="unused">
    Kill switch not used: actions already requested run on in Defender.
  </div>`;
}

/** One campaign: progress bar split by outcome, counts, rate, ETA and failures by reason. */
export function campaignCard(view: CampaignView, linkToPage = true): SafeHtml {
  const { campaign } = view;
  const total = Math.max(1, campaign.total);
  const { counts } = campaign;
  return html`<article class="campaign state-${campaign.state}" data-campaign="${campaign.id}">
    <div class="campaign-head">
      ${
        linkToPage
          ? html`<a class="campaign-name" href="/campaigns/${campaign.id}">${campaign.name}</a>`
          : html`<span class="campaign-name">${campaign.name}</span>`
      }
      <span class="pill pill-${campaignBadge(campaign).tone}" data-badge
        >${campaignBadge(campaign).label}</span
      >${
        campaign.priority === 'urgent'
          ? html`<span class="pill pill-urgent" data-urgent>urgent</span>`
          : ''
      }
      <span class="meta"
        >${campaign.scanType} scan · ${campaign.tenant} · ${campaign.priority} ·
        ${campaign.createdBy} · ${formatTime(campaign.createdAt)} · ${campaign.source} ·
        <code>${campaign.id}</code>${
          campaign.schedule
            ? html` · schedule <b class="campaign-schedule">${campaign.schedule}</b>`
            : ''
        }${
          campaign.window
            ? html` · window ${campaign.window.start}-${campaign.window.end} ${campaign.window.tz}`
            : ''
        }</span
      >
    </div>
    <div
      class="progress"
      role="progressbar"
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow="${view.percent.toFixed(1)}"
    >
      ${SEGMENTS.map((state) =>
        counts[state] > 0
          ? html`<span
              class="seg seg-${state}"
              title="${state}: ${formatCount(counts[state])}"
              style="width:${((counts[state] / total) * 100).toFixed(2)}%"
            ></span>`
          : '',
      )}
    </div>
    ${progressLabel(view)} ${killSwitchLine(view)}
    <dl class="stats">
      ${stat('MachineActions', formatCount(counts.requested), null, 'requested')}
      ${stat('Queued', formatCount(counts.queued), null, 'queued')}
      ${stat('Deferred (busy)', formatCount(counts.deferred), `${formatCount(campaign.deferrals)} ${campaign.deferrals === 1 ? 'deferral' : 'deferrals'}${view.nextAttemptAt ? `, next retry ${formatClock(view.nextAttemptAt)}` : ''}`, 'deferred')}
      ${stat('Failed', formatCount(counts.failed), null, 'failed')}
      ${stat('Cancelled', formatCount(counts.cancelled), null, 'cancelled')}
      ${stat('Joined existing', formatCount(campaign.joinedExisting), null, 'joined')}
      ${stat('Rate', view.ratePerMin === null ? '—' : `${formatCount(view.ratePerMin)}/min`, rateNote(view), 'rate')}
      ${stat('ETA', etaText(view), null, 'eta')}
      ${view.proved ? stat('Proved complete', `${formatCount(view.proved.completed)} of ${formatCount(view.proved.of)}`, null, 'proved') : ''}
    </dl>
    ${failureList(campaign.failuresByReason)}
  </article>`;
}
