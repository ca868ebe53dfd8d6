import type { LiveWorker } from '../../ops/worker-presence.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

/**
 * The worker processes that beat recently (heartbeats), or a plain "none" with the fix. Tenants
 * by name (their budget ids in the title): several tenants may share one budget.
 */
export function workerPanel(workers: readonly LiveWorker[]): SafeHtml {
  return html`<section class="panel" aria-label="Workers" data-workers="${workers.length}">
    <h2>Workers <small>${formatCount(workers.length)} live</small></h2>
    ${
      workers.length === 0
        ? html`<p class="empty" data-no-workers>
            No live worker: queued devices are not called for. Start one with
            <code>fleetscan worker</code>.
          </p>`
        : html`<table class="grid workers">
            <thead>
              <tr>
                <th>host</th>
                <th class="num">pid</th>
                <th class="num">concurrency</th>
                <th>tenants served</th>
                <th>last beat</th>
                <th>last job</th>
              </tr>
            </thead>
            <tbody>
              ${workers.map(
                (worker) =>
                  html`<tr data-worker="${worker.id}">
                    <td>${worker.host}</td>
                    <td class="num" data-pid>${String(worker.pid)}</td>
                    <td class="num" data-concurrency>${formatCount(worker.concurrency)}</td>
                    <td data-tenants title="${(worker.budgets ?? []).join(', ')}">
                      ${worker.tenants.join(', ')}
                    </td>
                    <td>${formatTime(worker.lastBeatAt)}</td>
                    <td>
                      ${worker.lastJobAt === null ? 'none yet' : formatTime(worker.lastJobAt)}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}
