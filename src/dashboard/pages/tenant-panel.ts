import { tenantHold, type TenantReport } from '../../lanes/tenant-reports.js';
import { formatCloud, formatCount, formatSpan, formatTime, formatWindow } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

function budgetCell(report: TenantReport): SafeHtml {
  return html`${report.windows.map(
    (w) =>
      html`<div class="tenant-window" data-window-ms="${w.windowMs}">
        <b>${formatCount(w.used)}</b> / ${formatCount(w.cap)} per ${formatWindow(w.windowMs)}
        <small>reserve ${formatCount(w.reserve)}</small>
      </div>`,
  )}`;
}

/** The effective caps against the configured ones, and why they were last lowered. */
function adaptiveCell(report: TenantReport): SafeHtml {
  const { adaptive } = report;
  if (adaptive.state === 'off') return html`<span class="note">off</span>`;
  if (adaptive.state === 'configured') return html`configured caps`;
  return html`${adaptive.windows
    .filter((w) => w.effectiveCap < w.configuredCap)
    .map(
      (w) =>
        html`<div>
          lowered to <b>${formatCount(w.effectiveCap)}</b> of ${formatCount(w.configuredCap)} per
          ${formatWindow(w.windowMs)}
        </div>`,
    )}${
    adaptive.lastDecrease
      ? html`<small>last 429 ${formatTime(adaptive.lastDecrease.at)}</small>`
      : ''
  }`;
}

/** The breaker and the 429 hold: may this tenant's campaigns call now, and if not, why. */
function stateCell(report: TenantReport): SafeHtml {
  const hold = tenantHold(report);
  if (report.blocked) {
    return html`<span class="pill pill-failed">blocked: ${report.blocked.reason}</span>
      <div class="tenant-blocked">
        next probe ${formatTime(Date.parse(report.blocked.nextProbeAt))}: ${report.blocked.message}
      </div>`;
  }
  if (hold === 'held') {
    return html`<span class="pill pill-paused"
      >held after 429, ${formatSpan(report.heldForMs)}</span
    >`;
  }
  const tone = hold === 'open' ? 'open' : 'paused';
  const text = hold === 'reserve only' ? 'reserve only (urgent may call)' : hold;
  return html`<span class="pill pill-${tone}">${text}</span>`;
}

/**
 * Every configured tenant as `fleetscan tenants` reports it (the same `readTenantReports`):
 * cloud, scan budget use with the urgent reserve, adaptive caps, breaker and waiting work.
 */
export function tenantPanel(reports: readonly TenantReport[]): SafeHtml {
  return html`<section class="panel" aria-label="Tenants" data-tenants="${reports.length}">
    <h2>Tenants <small>scan budget, urgent reserve, adaptive caps and breaker</small></h2>
    ${
      reports.length === 0
        ? html`<p class="empty">No tenant configured.</p>`
        : html`<table class="grid tenants">
            <thead>
              <tr>
                <th>tenant</th>
                <th>cloud</th>
                <th>scan budget used (reserve)</th>
                <th>adaptive cap</th>
                <th>state</th>
                <th class="num">waiting U/N/B</th>
                <th class="num">due</th>
                <th class="num">active</th>
              </tr>
            </thead>
            <tbody>
              ${reports.map(
                (r) =>
                  html`<tr data-tenant="${r.name}" data-hold="${tenantHold(r)}">
                    <td><b>${r.name}</b></td>
                    <td title="${r.budgetId}">${formatCloud(r.cloud)}</td>
                    <td>${budgetCell(r)}</td>
                    <td>${adaptiveCell(r)}</td>
                    <td>${stateCell(r)}</td>
                    <td class="num">
                      ${formatCount(r.campaignsWaiting.urgent)}/${formatCount(r.campaignsWaiting.normal)}/${formatCount(r.campaignsWaiting.background)}
                    </td>
                    <td class="num">${formatCount(r.devicesDue)}</td>
                    <td class="num">${formatCount(r.devicesInProgress)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}
