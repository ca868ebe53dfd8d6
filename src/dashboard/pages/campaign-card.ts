import type { CampaignView } from '../overview.js';
import { formatCount, formatPercent, formatSpan, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

const SEGMENTS = ['requested', 'failed', 'cancelled', 'deferred'] as const;

function stat(label: string, value: string, note: string | null = null, key = label): SafeHtml {
  return html`<div class="stat" data-stat="${key}">
    <dt>${label}</dt>
    <dd>${value}${note ? html` <small>${note}</small>` : ''}</dd>
  </div>`;
}

function etaText(view: CampaignView): string {
  const { campaign } = view;
  if (campaign.state === 'finished') return `done ${formatTime(campaign.finishedAt).slice(11, 16)}`;
  if (campaign.state !== 'running') return campaign.state;
  // Only busy devices left: they wait for their retry time, not for the budget.
  if (campaign.counts.queued === 0 && campaign.counts.deferred > 0) return 'busy wait';
  return view.etaMs === null ? '—' : formatSpan(view.etaMs);
}

/** Failures grouped by reason, largest first; the full text is in the title for long API messages. */
function failureList(reasons: Record<string, number>): SafeHtml {
  const rows = Object.entries(reasons)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return html``;
  const top = rows.slice(0, 6);
  const rest = rows.slice(6).reduce((sum, [, n]) => sum + n, 0);
  return html`<ul class="reasons" aria-label="Failures by reason">
    ${top.map(
      ([reason, n]) =>
        html`<li>
          <span class="reason" title="${reason}">${reason}</span><b>${formatCount(n)}</b>
        </li>`,
    )}
    ${rest > 0 ? html`<li><span class="reason">other reasons</span><b>${formatCount(rest)}</b></li>` : ''}
  </ul>`;
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
      <span class="pill pill-${campaign.state}">${campaign.state}</span>
      <span class="meta"
        >${campaign.scanType} scan · ${campaign.tenant} · ${campaign.priority} ·
        ${campaign.createdBy} · ${formatTime(campaign.createdAt)} · ${campaign.source} ·
        <code>${campaign.id}</code></span
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
    <div class="progress-label">
      <strong class="percent">${formatPercent(view.percent)}</strong>
      <span>${formatCount(view.settled)} of ${formatCount(campaign.total)} devices settled</span>
    </div>
    <dl class="stats">
      ${stat('MachineActions', formatCount(counts.requested), null, 'requested')}
      ${stat('Queued', formatCount(counts.queued), null, 'queued')}
      ${stat('Deferred (busy)', formatCount(counts.deferred), `${formatCount(campaign.deferrals)} ${campaign.deferrals === 1 ? 'deferral' : 'deferrals'}`, 'deferred')}
      ${stat('Failed', formatCount(counts.failed), null, 'failed')}
      ${stat('Cancelled', formatCount(counts.cancelled), null, 'cancelled')}
      ${stat('Joined existing', formatCount(campaign.joinedExisting), null, 'joined')}
      ${stat('Rate', view.ratePerMin === null ? '—' : `${formatCount(view.ratePerMin)}/min`, null, 'rate')}
      ${stat('ETA', etaText(view), null, 'eta')}
    </dl>
    ${failureList(campaign.failuresByReason)}
  </article>`;
}
