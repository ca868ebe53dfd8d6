import type { DeviceRecord } from '../../campaigns/campaign.js';
import type { CampaignFindings } from '../../tracking/lifecycle-store.js';
import { html, type SafeHtml } from '../../web/html.js';

/** Devices with detections shown on the campaign page; the export has them all. */
export const FINDINGS_SHOWN = 200;

/** Not remediated first, then most detections: what a responder looks at first. */
export function worstFirst(a: DeviceRecord, b: DeviceRecord): number {
  const ta = a.threats;
  const tb = b.threats;
  return (
    (tb?.unremediated ?? 0) - (ta?.unremediated ?? 0) ||
    (tb?.count ?? 0) - (ta?.count ?? 0) ||
    a.machineId.localeCompare(b.machineId)
  );
}

function row(device: DeviceRecord): SafeHtml {
  const t = device.threats;
  if (!t) return html``;
  // prettier-ignore
  return html`<tr class="${t.unremediated > 0 ? 'finding-open' : 'finding-remediated'}">
    <td>${device.hostname ? html`<span class="hostname">${device.hostname}</span><br />` : ''}<code>${device.machineId}</code></td>
    <td class="num">${t.count}</td>
    <td>${t.names.join(', ')}</td>
    <td class="num">${t.unremediated === 0 ? 'all remediated' : `${String(t.unremediated)} not remediated`}</td>
    <td class="reason-cell">${t.files.join(', ')}</td>
    <td class="num" title="${t.alertTitles.join('; ')}">${t.alerts}</td>
  </tr>`;
}

/**
 * "What the scans found", above the device table: the devices with detections (not remediated
 * first), then the clean ones as a count; nothing until a verify run looked.
 */
export function findingsTable(
  campaignId: string,
  findings: CampaignFindings | null,
  found: readonly DeviceRecord[],
): SafeHtml {
  if (findings === null) return html``;
  const clean = findings.checked - findings.devices;
  if (findings.devices === 0)
    return html`<section id="findings" data-devices="0">
      <h2>What the scans found</h2>
      <p>No detections on any of the ${findings.checked} devices checked.</p>
    </section>`;
  const shown = [...found].sort(worstFirst).slice(0, FINDINGS_SHOWN);
  // prettier-ignore
  return html`<section id="findings" data-devices="${findings.devices}"><h2>What the scans found</h2>
    <p><strong>${findings.devices} of ${findings.checked} devices with detections</strong>
      (${findings.unremediatedDevices} not remediated, ${findings.alertedDevices} with new alerts; ${findings.detections} detections).
      ${shown.length < findings.devices ? html`The first ${shown.length} are shown; <a href="/campaigns/${campaignId}/export.csv">the export</a> has them all.` : ''}</p>
    <table class="findings"><thead><tr><th>Device</th><th>Detections</th><th>Threats</th><th>Remediation</th><th>Files</th><th>New alerts</th></tr></thead>
    <tbody>${shown.map(row)}</tbody></table>
    <p class="clean">Clean: ${clean} device${clean === 1 ? '' : 's'} with nothing detected.</p></section>`;
}
