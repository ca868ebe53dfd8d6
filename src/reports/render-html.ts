import type { ReportData } from './report-data.js';
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
.chart{margin-top:16px}svg text{font:11px system-ui,sans-serif;fill:#57606a}
@media print{body{background:#fff}section{break-inside:avoid}}`;

/** Bars per window with the cap as a line: inline SVG, no script, no external file. */
function chart(data: ReportData): string {
  const { window, buckets } = data.calls;
  if (buckets.length === 0) return '<p>No requests recorded.</p>';
  const width = 900;
  const height = 220;
  const top = Math.max(window.cap, data.calls.busiestBucket) * 1.1;
  const barWidth = Math.max(1, (width - 40) / buckets.length);
  const y = (v: number) => height - 20 - ((height - 40) * v) / top;
  const bars = buckets
    .map(
      (b, i) =>
        `<rect x="${(40 + i * barWidth).toFixed(1)}" y="${y(b.requests).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${(height - 20 - y(b.requests)).toFixed(1)}" fill="#3b82f6"><title>${escapeHtml(b.start)}: ${String(b.requests)}</title></rect>`,
    )
    .join('');
  const capY = y(window.cap).toFixed(1);
  return `<svg viewBox="0 0 ${String(width)} ${String(height)}" width="100%" role="img" aria-label="Scan requests per window against the cap">
<line x1="40" x2="${String(width)}" y1="${capY}" y2="${capY}" stroke="#dc2626" stroke-dasharray="4 3"/>
<text x="42" y="${(Number(capY) - 4).toFixed(1)}">cap ${String(window.cap)}</text>
${bars}
<text x="40" y="${String(height - 4)}">${escapeHtml(buckets[0]?.start ?? '')}</text>
<text x="${String(width)}" y="${String(height - 4)}" text-anchor="end">${escapeHtml(buckets.at(-1)?.start ?? '')}</text>
</svg>`;
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
<section class="chart"><h2>Scan requests per ${escapeHtml(String(data.calls.window.windowMs / 1000))} s against the cap</h2>${chart(data)}</section>
</main></body></html>
`;
}
