import { html, type SafeHtml } from '../../web/html.js';

/** Who the header says is signed in (the dashboard's `request.person`, reduced to what shows). */
export interface SignedIn {
  name: string;
  upn: string;
  roles: readonly string[];
  via: string;
  /** The sign-out form's CSRF token (Entra sessions only; derived from the session id). */
  signOutToken?: string | undefined;
}

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Shown in the header so nobody wonders whether the buttons are live. */
  allowActions: boolean;
  /** The signed-in person: name and role in the header, and a sign-out button for Entra. */
  person?: SignedIn | null | undefined;
  /** A page for someone without a session: no navigation, mode or live badge (all need one). */
  signedOut?: boolean | undefined;
}

const ROLE_LABEL: Readonly<Record<string, string>> = {
  viewer: 'Viewer',
  operator: 'Operator',
  admin: 'Admin',
};

function whoIsSignedIn(person: SignedIn | null | undefined) {
  if (!person || person.via !== 'entra') return '';
  // The strongest role held (roles.ts keeps them weakest first, but the header does not rely on it).
  const strongest = ['admin', 'operator', 'viewer'].find((r) => person.roles.includes(r));
  const role = ROLE_LABEL[strongest ?? ''] ?? 'no role';
  return html`<span class="who" title="${person.upn}"
      >${person.name} · <span class="role">${role}</span></span
    >
    <form class="signout" method="post" action="/signout">
      <input type="hidden" name="signout-token" value="${person.signOutToken ?? ''}" />
      <button type="submit">Sign out</button>
    </form>`;
}

/** The page shell: header, navigation, stylesheet and the small script that keeps it live. */
export function layout({ title, body, allowActions, person, signedOut }: LayoutOptions): string {
  const bar = signedOut
    ? html`<span class="nav-spacer"></span><span class="who">not signed in</span>`
    : html`<nav>
          <a href="/">Campaigns</a>
          <a href="/queues">Queues</a>
          <a href="/metrics">Metrics</a>
          <a href="/audit">Audit</a>
          ${
            allowActions && person?.roles.includes('admin') === true
              ? html`<a href="/admin/tokens" class="nav-admin">Admin</a>`
              : ''
          }
        </nav>
        <span class="mode ${allowActions ? 'mode-actions' : 'mode-readonly'}"
          >${allowActions ? 'actions enabled' : 'read-only'}</span
        >
        ${whoIsSignedIn(person)}
        <span class="live" id="live-status" aria-live="polite">live</span>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · fleetscan</title>
        <link rel="icon" type="image/svg+xml" href="/static/favicon.svg" />
        <link rel="stylesheet" href="/static/dashboard.css" />
        <script src="/static/dashboard.js" defer></script>
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/"><span class="logo">◎</span> fleetscan</a>
          ${bar}
        </header>
        <main>${body}</main>
      </body>
    </html>`.value;
}
