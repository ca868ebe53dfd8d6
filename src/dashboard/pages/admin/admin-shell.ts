import { html, type SafeHtml } from '../../../web/html.js';
import { layout, type SignedIn } from '../layout.js';

/** The admin pages, in the order of their tabs. */
export const ADMIN_SECTIONS = [
  { path: '/admin/tokens', label: 'API tokens' },
  { path: '/admin/webhooks', label: 'Webhooks' },
  { path: '/admin/schedules', label: 'Schedules' },
] as const;
export type AdminPath = (typeof ADMIN_SECTIONS)[number]['path'];

/** The hidden field every admin form posts: the dashboard's action token (csrf.ts). */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}" />`;
}

/** One admin page: the tabs, then the section's body, in the dashboard's layout. */
export function adminPage(input: {
  title: string;
  current: AdminPath;
  body: SafeHtml;
  person: SignedIn | null;
}): string {
  const tabs = html`<nav class="admin-tabs" aria-label="Admin">
    ${ADMIN_SECTIONS.map((s) =>
      s.path === input.current
        ? html`<a href="${s.path}" aria-current="page"><b>${s.label}</b></a>`
        : html`<a href="${s.path}">${s.label}</a>`,
    )}
  </nav>`;
  return layout({
    title: input.title,
    allowActions: true,
    person: input.person,
    body: html`${tabs}${input.body}`,
  });
}

/** A secret shown exactly once, after it was made: nothing keeps it, so the page says so. */
export function shownOnce(label: string, secret: string, back: AdminPath): SafeHtml {
  return html`<section class="card created">
    <h1>${label}</h1>
    <p>Copy it now: this is the only time it is shown. fleetscan keeps only a hash.</p>
    <p><code class="secret" id="shown-secret">${secret}</code></p>
    <p><a href="${back}">Back to the list</a></p>
  </section>`;
}
