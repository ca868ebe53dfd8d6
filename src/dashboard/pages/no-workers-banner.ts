import type { LiveWorker } from '../../ops/worker-presence.js';
import { html, type SafeHtml } from '../../web/html.js';

/**
 * The page-wide alarm when heartbeats are read and none is alive: nothing is called for until
 * a worker starts, whatever the cards say. Nothing when workers are not read at all.
 */
export function noWorkersBanner(workers: readonly LiveWorker[] | undefined): SafeHtml {
  if (!workers || workers.length > 0) return html``;
  return html`<div class="banner banner-alert" role="alert" data-no-workers-banner>
    <b>No live worker.</b> Queued devices are not called for until one runs: start one with
    <code>fleetscan worker</code> (same configuration and tenants as the campaigns).
  </div>`;
}
