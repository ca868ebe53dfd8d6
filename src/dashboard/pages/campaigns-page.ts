import type { Overview } from '../overview.js';
import { budgetPanel } from './budget-panel.js';
import { campaignCard } from './campaign-card.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';
import { layout, type SignedIn } from './layout.js';
import { noWorkersBanner } from './no-workers-banner.js';
import { archivedPanel, memoryWarning } from './retention-panels.js';
import { schedulePanel } from './schedule-panel.js';
import { tenantPanel } from './tenant-panel.js';
import { workerPanel } from './worker-panel.js';

/** The live part of the campaigns page: replaced as a whole on every update. */
export function overviewFragment(overview: Overview): SafeHtml {
  return html`${noWorkersBanner(overview.workers)}${memoryWarning(overview.memory)}
    ${overview.tenants ? tenantPanel(overview.tenants) : ''}${budgetPanel(overview.budgets, overview.at)}
    <section class="panel" aria-label="Campaigns">
      <h2>Campaigns <small>updated ${formatTime(overview.at)}</small></h2>
      ${
        overview.campaigns.length === 0
          ? html`<p class="empty">No campaigns yet. Start one with <code>fleetscan scan</code>.</p>`
          : html`<div class="campaign-list">
              ${overview.campaigns.map((view) => campaignCard(view))}
            </div>`
      }
      ${
        overview.hidden > 0
          ? html`<p class="note">${formatCount(overview.hidden)} older campaigns not shown.</p>`
          : ''
      }
    </section>
    ${overview.workers ? workerPanel(overview.workers) : ''} ${archivedPanel(overview.archived)}
    ${overview.schedules ? schedulePanel(overview.schedules) : ''}`;
}

export function campaignsPage(
  overview: Overview,
  allowActions: boolean,
  startOffered = false,
  person?: SignedIn | null,
): string {
  return layout({
    title: 'Campaigns',
    allowActions,
    person,
    body: html`${
        startOffered
          ? html`<p class="page-actions">
              <a class="btn btn-new" href="/campaigns/new">New campaign</a>
            </p>`
          : ''
      }
      <div data-live="/fragments/overview" data-events="/events/overview">
        ${overviewFragment(overview)}
      </div>`,
  });
}
