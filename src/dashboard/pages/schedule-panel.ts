import type { ScheduleView } from '../../schedules/schedule-view.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

function lastRun(view: ScheduleView): SafeHtml {
  const run = view.lastRun;
  if (!run) return html`<span class="empty">never fired</span>`;
  const skipped = Object.values(run.counts?.skipped ?? {}).reduce((a, b) => a + b, 0);
  const counts = run.counts
    ? ` · ${formatCount(run.counts.queued)} queued` +
      (skipped > 0 ? `, ${formatCount(skipped)} skipped` : '')
    : '';
  return html`<span class="pill pill-${run.outcome}">${run.outcome}</span>
    ${formatTime(run.planned)}${
      run.campaignId
        ? html` · <a href="/campaigns/${run.campaignId}"><code>${run.campaignId}</code></a>`
        : ''
    }${counts}${run.reason ? html` · <span title="${run.reason}">${run.reason.slice(0, 80)}</span>` : ''}`;
}

/** Schedules: next fire in local and UTC time, last run with outcome and counts, paused with note. */
export function schedulePanel(views: readonly ScheduleView[]): SafeHtml {
  return html`<section class="panel schedules" aria-label="Schedules">
    <h2>Schedules <small>fired by the workers, one at a time</small></h2>
    ${
      views.length === 0
        ? html`<p class="empty">No schedules. Add one with <code>fleetscan schedule add</code>.</p>`
        : html`<table class="schedule-table">
            <thead>
              <tr>
                <th>Schedule</th>
                <th>Cron</th>
                <th>Next fire</th>
                <th>Last run</th>
              </tr>
            </thead>
            <tbody>
              ${views.map(
                (v) =>
                  html`<tr data-schedule="${v.name}">
                    <td>
                      <b>${v.name}</b><br /><small
                        >${v.targets}${v.window ? ` · window ${v.window}` : ''}</small
                      >
                    </td>
                    <td>
                      <code>${v.cron}</code><br /><small>${v.tz} · overlap ${v.overlap}</small>
                    </td>
                    <td>
                      ${
                        v.paused
                          ? html`<span class="pill pill-paused">paused</span
                              >${v.note ? html` <span class="note">${v.note}</span>` : ''}`
                          : v.nextFire
                            ? html`${v.nextFire.local}<br /><small
                                  >${v.nextFire.utc.slice(0, 16)}Z</small
                                >`
                            : html`<span class="empty">ended</span>`
                      }
                    </td>
                    <td>${lastRun(v)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}
