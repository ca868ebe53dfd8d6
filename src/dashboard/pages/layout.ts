import { html, type SafeHtml } from '../../web/html.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Shown in the header so nobody wonders whether the buttons are live. */
  allowActions: boolean;
}

/** The page shell: header, navigation, stylesheet and the small script that keeps it live. */
export function layout({ title, body, allowActions }: LayoutOptions): string {
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
          <nav>
            <a href="/">Campaigns</a>
            <a href="/queues">Queues</a>
            <a href="/metrics">Metrics</a>
            <a href="/audit">Audit</a>
          </nav>
          <span class="mode ${allowActions ? 'mode-actions' : 'mode-readonly'}"
            >${allowActions ? 'actions enabled' : 'read-only'}</span
          >
          <span class="live" id="live-status" aria-live="polite">live</span>
        </header>
        <main>${body}</main>
      </body>
    </html>`.value;
}
