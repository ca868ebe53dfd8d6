import type { ScanPreview } from '../../control/scan-preview.js';
import type { StartForm } from '../start/start-form.js';
import { formatCount, formatSpan, formatWindow } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

/** The budget's floor in words, as `scan --dry-run` says it. */
function floorLine(preview: ScanPreview): SafeHtml {
  const windows = preview.budget.windows
    .map((w) => `${formatCount(w.used)}/${formatCount(w.cap)} per ${formatWindow(w.windowMs)}`)
    .join(', ');
  const floor =
    preview.floorMs > 0
      ? html`The scan budget needs at least <b data-floor>${formatSpan(preview.floorMs)}</b> for
          them`
      : html`The scan budget has room for all of them <b data-floor>now</b>`;
  return html`<p class="floor">
    ${floor} (one call each; busy devices take longer)${windows ? `; budget now ${windows}` : ''}.
  </p>`;
}

function invalidTable(preview: ScanPreview): SafeHtml {
  if (preview.invalid === 0) return html``;
  const more = preview.invalid - preview.invalidLines.length;
  return html`<table class="invalid-lines" aria-label="Invalid lines">
      <thead>
        <tr>
          <th>Line</th>
          <th>Value</th>
          <th>Why</th>
        </tr>
      </thead>
      <tbody>
        ${preview.invalidLines.map(
          (e) =>
            html`<tr data-invalid-line="${e.line}">
              <td>line ${e.line}</td>
              <td><code>${e.value}</code></td>
              <td>${e.reason}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${more > 0 ? html`<p class="note">… and ${formatCount(more)} more invalid lines</p>` : ''}`;
}

/**
 * The dry run of the new-campaign form: counts, invalid lines by number, skips by reason and the
 * least time the budget needs; then the confirm button, or why there is nothing to start.
 * Nothing exists yet when this is shown.
 */
export function previewPanel(preview: ScanPreview, form: StartForm): SafeHtml {
  const skipped = Object.entries(preview.skipped).filter(([, n]) => n > 0);
  return html`<section class="panel preview" data-preview data-devices="${preview.devices}">
    <h2>Preview <small>nothing is created until you confirm</small></h2>
    <p class="preview-summary">
      <b data-preview-devices>${formatCount(preview.devices)}</b>
      ${preview.devices === 1 ? 'device' : 'devices'} would be queued from
      <code>${preview.source}</code>: ${form.scanType} scan, tenant ${form.tenant},
      ${form.priority}${
        form.window ? ` , window ${form.window.start}-${form.window.end} ${form.window.tz}` : ''
      }.
    </p>
    <ul class="preview-counts">
      <li data-preview-invalid>
        ${formatCount(preview.invalid)} invalid ${preview.invalid === 1 ? 'line' : 'lines'} (left
        out)
      </li>
      <li data-preview-duplicate>${formatCount(preview.duplicate)} duplicate</li>
      ${
        skipped.length > 0
          ? html`<li data-preview-skipped>
              skipped: ${skipped.map(([reason, n]) => `${formatCount(n)} ${reason}`).join(', ')}
            </li>`
          : ''
      }
    </ul>
    ${invalidTable(preview)} ${floorLine(preview)}
    ${
      preview.devices > 0
        ? html`<button type="button" class="btn btn-start" data-confirm-start>
            Start campaign of ${formatCount(preview.devices)} devices
          </button>`
        : html`<p class="refusal-message">
            Nothing to scan: no campaign can be started from this.
          </p>`
    }
  </section>`;
}
