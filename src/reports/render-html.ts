import { formatDuration } from '../config/duration.js';
import type { ReportData, WindowChart } from './report-data.js';
import { reportSections } from './report-sections.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.meta{color:#57606a;margin-bottom:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px}
table{border-collapse:collapse;width:100%}td{padding:3px 0;vertical-align:top}
td.v{text-align:right;font-variant-numeric:tabular-nums;padding-left:12px;word-break:break-word}
.headline{font-size:28px;font-weight:600}
.chart{margin-top:16px}svg text{font:11px system-ui,sans-serif;fill:#57606a}svg{margin-top:8px}
.key{white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin:0 4px 0 2px;border-radius:2px}
@media print{body{background:#fff}section{break-inside:avoid}}`;

/** Bar colours per endpoint family (the cap counts each family on its own by default). */
const FAMILY_COLOURS: Readonly<Record<string, string>> = {
  scan: '#3b82f6',
  machineActions: '#10b981',
  cancel: '#f59e0b',
  machines: '#8b5cf6',
};
const colourOf = (family: string): string => FAMILY_COLOURS[family] ?? '#6b7280';

/**
 * One window's chart: a bar per window-long bucket at its place in time, stacked by family, with
 * the cap as a line. Inline SVG, no script, no external file. `data-calls` carries each bar's
 * number so that a reader (or a test) can check it against the export.
 */
function windowChart(chart: WindowChart): string {
  const { window, buckets } = chart;
  const width = 900;
  const height = 200;
  const left = 40;
  const firstMs = Date.parse(buckets[0]?.start ?? '');
  const lastMs = Date.parse(buckets.at(-1)?.start ?? '');
  const spanMs = Math.max(window.windowMs, lastMs + window.windowMs - firstMs);
  const x = (ms: number) => left + ((width - left) * (ms - firstMs)) / spanMs;
  const barWidth = Math.max(1, ((width - left) * window.windowMs) / spanMs - 1);
  const top = Math.max(window.cap, ...buckets.map((b) => b.total)) * 1.1;
  const y = (v: number) => height - 20 - ((height - 40) * v) / top;
  const bars = buckets
    .map((b) => {
      let below = 0;
      const x0 = x(Date.parse(b.start)).toFixed(1);
      const title = `${b.start}: ${String(b.total)} (${Object.entries(b.byFamily)
        .map(([f, v]) => `${f} ${String(v)}`)
        .join(', ')})`;
      const parts = Object.entries(b.byFamily)
        .sort((p, q) => p[0].localeCompare(q[0]))
        .map(([family, calls]) => {
          const y0 = y(below + calls);
          const rect = `<rect x="${x0}" y="${y0.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(below) - y0).toFixed(1)}" fill="${colourOf(family)}"/>`;
          below += calls;
          return rect;
        })
        .join('');
      return `<g class="bar" data-start="${escapeHtml(b.start)}" data-calls="${String(b.total)}"><title>${escapeHtml(title)}</title>${parts}</g>`;
    })
    .join('');
  const capY = y(window.cap).toFixed(1);
  const label = formatDuration(window.windowMs);
  return `<svg viewBox="0 0 ${String(width)} ${String(height)}" width="100%" role="img" aria-label="API calls of the campaign per ${escapeHtml(label)} against the cap of ${String(window.cap)}" data-window-ms="${String(window.windowMs)}">
<line x1="${String(left)}" x2="${String(width)}" y1="${capY}" y2="${capY}" stroke="#dc2626" stroke-dasharray="4 3"/>
<text x="${String(left + 2)}" y="${(Number(capY) - 4).toFixed(1)}">cap ${String(window.cap)} per ${escapeHtml(label)}</text>
${bars}
<text x="${String(left)}" y="${String(height - 4)}">${escapeHtml(buckets[0]?.start ?? '')}</text>
<text x="${String(width)}" y="${String(height - 4)}" text-anchor="end">${escapeHtml(buckets.at(-1)?.start ?? '')}</text>
</svg>`;
}

/** Every window's chart, with a legend of the families that made calls. */
function callCharts(data: ReportData): string {
  const { calls } = data;
  if (calls.total === 0) return '<p>No API calls recorded for this campaign.</p>';
  const legend = Object.entries(calls.byFamily)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(
      ([family, v]) =>
        `<span class="key"><i style="background:${colourOf(family)}"></i>${escapeHtml(family)} ${v.toLocaleString('en-US')}</span>`,
    )
    .join(' ');
  const scope =
    calls.budgetScope === 'family'
      ? 'each endpoint family has its own cap'
      : 'every family shares one cap';
  return `<p>${calls.total.toLocaleString('en-US')} calls (${legend}); ${scope}.</p>
${calls.windows.map((w) => windowChart(w)).join('\n')}`;
}

/** The report as one self-contained HTML file: inline CSS and SVG, no scripts, no fonts to fetch. */
export function renderHtml(data: ReportData): string {
  const p = data.proof;
  const sections = reportSections(data)
    .map((s) => {
      const rows =
        s.rows.length === 0
          ? '<tr><td>None</td></tr>'
          : s.rows
              .map(
                ([k, v]) => `<tr><td>${escapeHtml(k)}</td><td class="v">${escapeHtml(v)}</td></tr>`,
              )
              .join('');
      return `<section><h2>${escapeHtml(s.title)}</h2><table>${rows}</table></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Scan campaign report ${escapeHtml(data.campaign.id)}</title>
<style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(data.campaign.name)}</h1>
<div class="meta">Campaign ${escapeHtml(data.campaign.id)} · generated ${escapeHtml(data.generatedAt)} by fleetscan</div>
<section><div class="headline" id="proved">Proved complete: ${p.completed.toLocaleString('en-US')} of ${p.withAction.toLocaleString('en-US')}</div>
<div>devices whose scan ended with AntivirusScanCompleted after the request (Graph advanced hunting)</div></section>
<div class="grid" style="margin-top:16px">
${sections}
</div>
<section class="chart" id="calls" data-total="${String(data.calls.total)}"><h2>API calls per window against the caps</h2>${callCharts(data)}</section>
</main></body></html>
`;
}
