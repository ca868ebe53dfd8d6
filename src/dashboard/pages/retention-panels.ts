import type { ArchivedCampaign } from '../../retention/archive-index.js';
import { formatBytes, type MemoryHeadroom } from '../../retention/memory-headroom.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

/** A warning above `retention.memory.warnAt`: how full Redis is and how many devices still fit. */
export function memoryWarning(memory: MemoryHeadroom | null | undefined): SafeHtml | string {
  if (!memory || memory.level === 'ok') return '';
  return html`<section
    class="panel memory-warning"
    role="alert"
    data-memory-level="${memory.level}"
  >
    <h2>Redis memory ${(memory.ratio * 100).toFixed(0)} % used</h2>
    <p>${memory.message}.</p>
  </section>`;
}

/** Archived campaigns, apart from the live ones: read from their archives, export links only. */
export function archivedPanel(
  archived: readonly ArchivedCampaign[] | undefined,
): SafeHtml | string {
  if (!archived || archived.length === 0) return '';
  return html`<section class="panel" aria-label="Archived campaigns">
    <h2>Archived campaigns <small>in retention.archiveDir, no longer in Redis</small></h2>
    <table class="archived">
      <thead>
        <tr>
          <th>campaign</th>
          <th>name</th>
          <th>state</th>
          <th>devices</th>
          <th>failed</th>
          <th>archived</th>
          <th>size</th>
          <th>export</th>
        </tr>
      </thead>
      <tbody>
        ${archived.map(
          (c) =>
            html`<tr data-campaign="${c.id}">
              <td><code>${c.id}</code></td>
              <td>${c.name}</td>
              <td>${c.state}</td>
              <td>${formatCount(c.total)}</td>
              <td>${formatCount(c.counts.failed)}</td>
              <td>${formatTime(c.archived.archivedAt)}</td>
              <td>${formatBytes(c.archived.bytes)}</td>
              <td>
                <a href="/campaigns/${c.id}/export.csv">csv</a>
                <a href="/campaigns/${c.id}/export.ndjson">ndjson</a>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
