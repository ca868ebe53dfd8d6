import { maskedUrl } from '../../../webhooks/webhook-destination.js';
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_FORMATS,
  type WebhookSubscription,
} from '../../../webhooks/webhook-event.js';
import type { Delivery } from '../../../webhooks/webhook-store.js';
import { html } from '../../../web/html.js';
import { formatTime } from '../format.js';
import type { SignedIn } from '../layout.js';
import { adminPage, csrfField, shownOnce } from './admin-shell.js';

/** A subscription with its newest delivery (null before the first event). */
export interface SubscriptionRow {
  subscription: WebhookSubscription;
  last: Delivery | null;
}

const STATE_PILL = { pending: 'pill-paused', delivered: 'pill-running', failed: 'pill-failed' };

function lastDelivery(last: Delivery | null) {
  if (!last) return html`<span class="empty">nothing sent yet</span>`;
  const attempt = last.attempts.at(-1);
  const answer = attempt
    ? ` · ${attempt.status === null ? (attempt.error ?? 'no answer') : `HTTP ${String(attempt.status)}`}`
    : '';
  return html`<span class="pill ${STATE_PILL[last.state]}">${last.state}</span>
    <small>${last.type} · ${formatTime(attempt?.at ?? last.createdAt)}${answer}</small>`;
}

function row({ subscription: s, last }: SubscriptionRow, token: string) {
  return html`<tr data-webhook="${s.id}">
    <td>
      <code>${maskedUrl(s.url)}</code><br /><small><code>${s.id}</code> · by ${s.createdBy}</small>
    </td>
    <td>${s.events.join(', ')}</td>
    <td>${s.format}</td>
    <td>${s.tenant ?? 'all'}${s.campaignId ? html`<br /><small>${s.campaignId}</small>` : ''}</td>
    <td>${lastDelivery(last)}</td>
    <td>
      <form method="post" action="/admin/webhooks/${s.id}/remove">
        ${csrfField(token)}<button type="submit" class="danger">Remove</button>
      </form>
    </td>
  </tr>`;
}

/**
 * `/admin/webhooks`: subscriptions with the URL masked (scheme, host and port: a Teams or Slack
 * URL carries its credential in the path or query) and the add form.
 */
export function webhooksPage(input: {
  rows: readonly SubscriptionRow[];
  actionToken: string;
  person: SignedIn | null;
}): string {
  const { rows, actionToken } = input;
  const body = html`<section class="card">
      <h1>Webhook subscriptions</h1>
      ${
        rows.length === 0
          ? html`<p class="empty">No subscriptions.</p>`
          : html`<table class="grid admin-webhooks">
              <thead>
                <tr>
                  <th>Receiver</th>
                  <th>Events</th>
                  <th>Format</th>
                  <th>Tenant</th>
                  <th>Last delivery</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows.map((r) => row(r, actionToken))}
              </tbody>
            </table>`
      }
    </section>
    <section class="card">
      <h2>New subscription</h2>
      <form method="post" action="/admin/webhooks" class="admin-form">
        ${csrfField(actionToken)}
        <label
          >Receiver URL
          <input type="url" name="url" required maxlength="2000" placeholder="https://…"
        /></label>
        <fieldset>
          <legend>Events</legend>
          ${WEBHOOK_EVENT_TYPES.map(
            (e) => html`<label><input type="checkbox" name="event.${e}" /> ${e}</label>`,
          )}
        </fieldset>
        <label
          >Format
          <select name="format">
            ${WEBHOOK_FORMATS.map((f) => html`<option value="${f}">${f}</option>`)}
          </select></label
        >
        <label>Tenant <input type="text" name="tenant" placeholder="empty: every tenant" /></label>
        <button type="submit">Subscribe</button>
      </form>
      <p>
        <small
          >The receiver must pass the same destination check as the API's subscriptions (https, no
          internal addresses unless <code>webhooks.allowNetworks</code> names them).</small
        >
      </p>
    </section>`;
  return adminPage({ title: 'Webhooks', current: '/admin/webhooks', body, person: input.person });
}

/** The answer to a new subscription: its signing secret, this once. */
export function createdWebhookPage(
  subscription: WebhookSubscription,
  secret: string,
  person: SignedIn | null,
): string {
  return adminPage({
    title: 'Subscription created',
    current: '/admin/webhooks',
    person,
    body: shownOnce(
      `Subscription ${subscription.id} created: its signing secret`,
      secret,
      '/admin/webhooks',
    ),
  });
}
