import { DEVICE_STATES, type DeviceRecord, type DeviceState } from '../../campaigns/campaign.js';
import { formatTime } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

export interface DeviceQuery {
  state: DeviceState | undefined;
  search: string | undefined;
  cursor: string | null;
}

function pageLink(campaignId: string, query: DeviceQuery, cursor: string | null): string {
  const params = new URLSearchParams();
  if (query.state) params.set('state', query.state);
  if (query.search) params.set('search', query.search);
  if (cursor) params.set('cursor', cursor);
  const text = params.toString();
  return `/campaigns/${campaignId}${text ? `?${text}` : ''}#devices`;
}

function row(device: DeviceRecord): SafeHtml {
  // prettier-ignore
  return html`<tr>
    <td>${device.hostname ? html`<span class="hostname">${device.hostname}</span><br />` : ''}<code>${device.machineId}</code></td>
    <td><span class="pill pill-${device.state}">${device.state}</span></td>
    <td>${device.machineActionId ? html`<code>${device.machineActionId}</code>` : '—'}</td>
    <td>${device.actionStatus ?? '—'}</td>
    <td class="reason-cell" title="${device.reason ?? ''}">${device.reason ?? ''}</td>
    <td class="num">${device.attempts}</td>
    <td>${formatTime(device.requestedAt)}</td>
  </tr>`;
}

/**
 * Devices of one campaign, a page at a time (store cursors, so 100k rows are never loaded at
 * once), with search by id and a state filter; both are plain GET forms that work without script.
 */
export function deviceTable(
  campaignId: string,
  devices: readonly DeviceRecord[],
  query: DeviceQuery,
  next: string | null,
): SafeHtml {
  return html`<section class="panel" id="devices" aria-label="Devices">
    <h2>Devices</h2>
    <form class="filters" method="get" action="/campaigns/${campaignId}#devices">
      <input
        type="search"
        name="search"
        value="${query.search ?? ''}"
        placeholder="machine id contains…"
        maxlength="40"
        pattern="[0-9a-fA-F]*"
        aria-label="Search by machine id"
      />
      <select name="state" aria-label="Filter by state">
        <option value="">all states</option>
        ${DEVICE_STATES.map(
          (state) =>
            html`<option value="${state}" ${state === query.state ? 'selected' : ''}>
              ${state}
            </option>`,
        )}
      </select>
      <button type="submit">Filter</button>
      <span class="export"
        >Export:
        <a href="/campaigns/${campaignId}/export.csv" download>CSV</a>
        <a href="/campaigns/${campaignId}/export.json" download>JSON</a>
        <a href="/campaigns/${campaignId}/export.ndjson" download>NDJSON</a></span
      >
    </form>
    <table class="devices">
      <thead>
        <tr>
          <th>Device</th>
          <th>State</th>
          <th>MachineAction</th>
          <th>Action status</th>
          <th>Reason</th>
          <th class="num">Attempts</th>
          <th>Requested</th>
        </tr>
      </thead>
      <tbody>
        ${
          devices.length === 0
            ? html`<tr>
                <td colspan="7" class="empty">No devices match.</td>
              </tr>`
            : ''
        }
        ${devices.map(row)}
      </tbody>
    </table>
    <nav class="pager">
      ${query.cursor ? html`<a href="${pageLink(campaignId, query, null)}">« First page</a>` : ''}
      ${next ? html`<a class="next" href="${pageLink(campaignId, query, next)}">Next page »</a>` : ''}
    </nav>
  </section>`;
}
