import type { ScheduleView } from '../../../schedules/schedule-view.js';
import { html } from '../../../web/html.js';
import type { SignedIn } from '../layout.js';
import { schedulePanel } from '../schedule-panel.js';
import { adminPage, csrfField } from './admin-shell.js';

const EXAMPLE = `name: nightly-servers
cron: "0 2 * * *"
tz: Europe/Berlin
tags: [Servers]
window: 01:00-05:00
comment: Nightly quick scan`;

function controls(v: ScheduleView, token: string, runOffered: boolean) {
  const post = (action: string, label: string, extra = html``) =>
    html`<form method="post" action="/admin/schedules/${v.name}/${action}">
      ${csrfField(token)}${extra}<button
        type="submit"
        ${action === 'remove' ? html`class="danger"` : ''}
      >
        ${label}
      </button>
    </form>`;
  return html`<div class="schedule-controls" data-schedule-controls="${v.name}">
    <b>${v.name}</b> ${v.paused ? html`<span class="pill pill-paused">paused</span>` : ''}
    ${
      v.paused
        ? post('resume', 'Resume')
        : post(
            'pause',
            'Pause',
            html`<input type="text" name="note" maxlength="200" placeholder="why (optional)" />`,
          )
    }
    ${runOffered ? post('run', 'Run now') : ''} ${post('remove', 'Remove')}
  </div>`;
}

/**
 * `/admin/schedules`: the schedules panel (next fire, last run) with pause/resume, run now
 * (when offered) and remove per schedule, and a form taking one `schedules.yaml` entry, checked by the CLI's parser.
 */
export function schedulesPage(input: {
  views: readonly ScheduleView[];
  actionToken: string;
  /** "Run now" (`schedule trigger`) is wired in. */
  runOffered: boolean;
  person: SignedIn | null;
}): string {
  const { views, actionToken, runOffered } = input;
  const body = html`${schedulePanel(views)}
    <section class="card">
      <h2>Pause, resume, run, remove</h2>
      ${
        views.length === 0
          ? html`<p class="empty">No schedules.</p>`
          : views.map((v) => controls(v, actionToken, runOffered))
      }
    </section>
    <section class="card">
      <h2>New schedule</h2>
      <form method="post" action="/admin/schedules" class="admin-form">
        ${csrfField(actionToken)}
        <label
          >One entry of a <code>schedules.yaml</code> (the keys
          <code>fleetscan schedule add</code> takes)
          <textarea name="yaml" rows="8" cols="60" required placeholder="${EXAMPLE}"></textarea>
        </label>
        <button type="submit">Add schedule</button>
      </form>
    </section>`;
  return adminPage({ title: 'Schedules', current: '/admin/schedules', body, person: input.person });
}
