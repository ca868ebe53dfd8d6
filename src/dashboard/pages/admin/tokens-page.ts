import type { ApiToken } from '../../../api/tokens/token-store.js';
import { html } from '../../../web/html.js';
import { MAX_EXPIRY_DAYS } from '../../admin/admin-forms.js';
import { formatTime } from '../format.js';
import type { SignedIn } from '../layout.js';
import { adminPage, csrfField, shownOnce } from './admin-shell.js';

function state(t: ApiToken, now: number) {
  if (t.revokedAt !== null) return html`<span class="pill pill-failed">revoked</span>`;
  if (t.expiresAt !== null && t.expiresAt <= now)
    return html`<span class="pill pill-paused">expired</span>`;
  return html`<span class="pill pill-running">active</span>`;
}

function row(t: ApiToken, token: string, now: number) {
  const active = t.revokedAt === null;
  return html`<tr data-token="${t.name}">
    <td>
      <b>${t.name}</b><br /><small><code>${t.id}</code> · by ${t.createdBy}</small>
    </td>
    <td>${t.scopes.join(', ')}</td>
    <td>${t.tenants === null ? 'all' : t.tenants.join(', ')}</td>
    <td>${formatTime(t.createdAt)}</td>
    <td>
      ${t.lastUsedAt === null ? html`<span class="empty">never</span>` : formatTime(t.lastUsedAt)}
    </td>
    <td>${t.expiresAt === null ? 'never' : formatTime(t.expiresAt)}</td>
    <td>${state(t, now)}</td>
    <td>
      ${
        active
          ? html`<form method="post" action="/admin/tokens/${t.id}/revoke">
              ${csrfField(token)}<button type="submit" class="danger">Revoke</button>
            </form>`
          : ''
      }
    </td>
  </tr>`;
}

/** `/admin/tokens`: every API token (never its secret or hash) and the new-token form. */
export function tokensPage(input: {
  tokens: readonly ApiToken[];
  actionToken: string;
  now: number;
  person: SignedIn | null;
}): string {
  const { tokens, actionToken, now } = input;
  const body = html`<section class="card">
      <h1>API tokens <small>for the automation API under /api/v1</small></h1>
      ${
        tokens.length === 0
          ? html`<p class="empty">No API tokens.</p>`
          : html`<table class="grid admin-tokens">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Scopes</th>
                  <th>Tenants</th>
                  <th>Created</th>
                  <th>Last used</th>
                  <th>Expires</th>
                  <th>State</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${tokens.map((t) => row(t, actionToken, now))}
              </tbody>
            </table>`
      }
    </section>
    <section class="card">
      <h2>New token</h2>
      <form method="post" action="/admin/tokens" class="admin-form">
        ${csrfField(actionToken)}
        <label
          >Name
          <input type="text" name="name" required maxlength="64" placeholder="sentinel-playbook"
        /></label>
        <fieldset>
          <legend>Scopes</legend>
          <label><input type="checkbox" name="scope.read" checked /> read</label>
          <label><input type="checkbox" name="scope.write" /> write (includes read)</label>
        </fieldset>
        <label
          >Tenants <input type="text" name="tenants" placeholder="empty: every tenant"
        /></label>
        <label
          >Expires in days
          <input
            type="number"
            name="expiresInDays"
            min="1"
            max="${MAX_EXPIRY_DAYS}"
            placeholder="empty: never"
        /></label>
        <button type="submit">Create token</button>
      </form>
    </section>`;
  return adminPage({ title: 'API tokens', current: '/admin/tokens', body, person: input.person });
}

/** The answer to a created token: its secret, this once. */
export function createdTokenPage(token: ApiToken, secret: string, person: SignedIn | null): string {
  return adminPage({
    title: 'Token created',
    current: '/admin/tokens',
    person,
    body: shownOnce(`Token ${token.name} created`, secret, '/admin/tokens'),
  });
}
