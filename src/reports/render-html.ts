import { escapeHtml } from '../web/html.js';
import type { ReportData, WindowChart } from './report-data.js';
import { reportHeadline } from './report-headline.js';
import { reportSections, windowText } from './report-sections.js';

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.meta{color:#57606a;margin-bottom:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px}
table{border-collapse:collapse;width:100%}td{padding:3px 0;vertical-align:top}
td.v{text-align:right;font-variant-numeric:tabular-nums;padding-left:12px;overflow-wrap:normal;word-break:normal}
time,code,.nowrap{white-space:nowrap}
.headline{font-size:26px;font-weight:600}.headline.verdict-proved{color:#1a7f37}
.headline.verdict-not-verified,.headline.verdict-partly-verified,.headline.verdict-verified{color:#9a6700}
.state-line{font-size:20px;font-weight:600;color:#cf222e}.kill{margin:4px 0}.note{color:#57606a;font-size:13px;margin:0 0 6px}
h3{font-size:15px;margin:14px 0 0}
.chart{margin-top:16px}svg text{font:11px system-ui,sans-serif;fill:#57606a}svg{margin-top:8px}
.key{white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin:0 4px 0 2px;border-radius:2px}
@media print{body{background:#fff}section{break-inside:avoid}}`;

const ISO_STAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z/;

/** One word of a value: a timestamp as a `<time>`, a hyphenated id or address kept whole. */
function word(text: string): string {
  const stamp = ISO_STAMP.exec(text);
  if (stamp) {
    const [iso, day = '', time = ''] = stamp;
    return `<time datetime="${iso}">${day}\u00a0${time}\u00a0UTC</time>${escapeHtml(text.slice(iso.length))}`;
  }
  // Browsers break after a hyphen: `soc-` / `oncall@…` is two lines of nonsense.
  return /[-/@:.]/.test(text) && text.length <= 48
    ? `<span class="nowrap">${escapeHtml(text)}</span>`
    : escapeHtml(text);
}

/**
 * Escaped text whose timestamps read `2026-12-07 15:20:04 UTC` and never wrap (non-breaking
 * spaces and `white-space: nowrap`): a table cell breaks between words, never inside a time, an
 * id or an address.
 */
export function richText(text: string): string {
  return text
    .split(/(\s+)/)
    .map((part) => (/^\s*$/.test(part) ? part : word(part)))
    .join('');
}

/** `15:20:04` (or `12-07 15:20` when the chart spans days): a short axis label. */
function axisLabel(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  return spanMs >= 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

/** Bar colours per endpoint family (the cap counts each family on its own by default). */
const FAMILY_COLOURS: Readonly<Record<string, string>> = {
  scan: '#3b82f6',
  machineActions: '#10b981',
  cancel: '#f59e0b',
  machines: '#8b5cf6',
};
const colourOf = (family: string): string => FAMILY_COLOURS[family] ?? '#6b7280';

/**
 * One budget's chart for one window: a bar per window-long bucket at its place in time, stacked
 * by family (only with a shared budget), with that budget's cap as a line. The axis runs from the
 * first bucket's start to the last bucket's end, so a single bucket still spans a window. Inline
 * SVG, no script, no external file. `data-calls` carries each bar's number so that a reader (or
 * a test) can check it against the export.
 */
function windowChart(chart: WindowChart): string {
  const { window, buckets } = chart;
  const width = 900;
  const height = 180;
  const left = 40;
  const firstMs = Date.parse(buckets[0]?.start ?? '');
  const endMs = Date.parse(buckets.at(-1)?.start ?? '') + window.windowMs;
  const spanMs = Math.max(window.windowMs, endMs - firstMs);
  const x = (ms: number) => left + ((width - left) * (ms - firstMs)) / spanMs;
  const barWidth = Math.max(1, ((width - left) * window.windowMs) / spanMs - 1);
  const top = Math.max(window.cap, ...buckets.map((b) => b.total)) * 1.15;
  const y = (v: number) => height - 20 - ((height - 40) * v) / top;
  const bars = buckets
    .map((b) => {
      let below = 0;
      const x0 = x(Date.parse(b.start)).toFixed(1);
      const title = `${b.start.slice(0, 19).replace('T', ' ')} UTC: ${String(b.total)} (${Object.entries(
        b.byFamily,
      )
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
  const label = windowText(window.windowMs);
  const whose = chart.family === null ? 'every family together' : chart.family;
  return `<svg viewBox="0 0 ${String(width)} ${String(height)}" width="100%" role="img" aria-label="${escapeHtml(whose)} calls of the campaign per ${escapeHtml(label)} against the cap of ${String(window.cap)}" data-family="${escapeHtml(chart.family ?? '')}" data-window-ms="${String(window.windowMs)}" data-cap="${String(window.cap)}">
<line x1="${String(left)}" x2="${String(width)}" y1="${capY}" y2="${capY}" stroke="#dc2626" stroke-dasharray="4 3"/>
<text x="${String(left + 2)}" y="${(Number(capY) - 4).toFixed(1)}">cap ${String(window.cap)} per ${escapeHtml(label)}</text>
${bars}
<text class="axis-start" x="${String(left)}" y="${String(height - 4)}">${axisLabel(firstMs, spanMs)} UTC</text>
<text class="axis-end" x="${String(width)}" y="${String(height - 4)}" text-anchor="end">${axisLabel(firstMs + spanMs, spanMs)} UTC</text>
</svg>`;
}

/** Every budget's charts, one heading per family, with a legend of the families that made calls. */
function callCharts(data: ReportData): string {
  const { calls } = data;
  if (calls.total === 0) return '<p>No API calls recorded for this campaign.</p>';
  const legend = Object.entries(calls.byFamily)
    .map(
      ([family, v]) =>
        `<span class="key"><i style="background:${colourOf(family)}"></i>${escapeHtml(family)} ${v.toLocaleString('en-US')}</span>`,
    )
    .join(' ');
  const scope =
    calls.budgetScope === 'family'
      ? 'each endpoint family has its own budget, so each is drawn against its own caps'
      : 'every family shares one budget, drawn stacked against the shared caps';
  let heading = '';
  const charts = calls.charts.map((chart) => {
    const title = chart.family ?? 'all families';
    const head = title === heading ? '' : `<h3>${escapeHtml(title)}</h3>`;
    heading = title;
    return head + windowChart(chart);
  });
  return `<p>${calls.total.toLocaleString('en-US')} calls (${legend}); ${scope}.</p>
${charts.join('\n')}`;
}

/** The headline: how the campaign ended, what the kill switch did, and what is proved. */
function headline(data: ReportData): string {
  const h = reportHeadline(data);
  return `<section id="headline" data-state="${escapeHtml(data.campaign.state)}" data-verdict="${h.verdict}">
${h.state === null ? '' : `<div class="state-line" id="state">${richText(h.state)}</div>`}
${h.killSwitch === null ? '' : `<div class="kill" id="kill-switch">${richText(h.killSwitch)}</div>`}
<div class="headline verdict-${h.verdict}" id="proved">${richText(h.proof)}</div>
<div class="note">Proof: devices whose scan ended with AntivirusScanCompleted after the request (Graph advanced hunting, <code>fleetscan verify</code>)</div></section>`;
}

/** The report as one self-contained HTML file: inline CSS and SVG, no scripts, no fonts to fetch. */
export function renderHtml(data: ReportData): string {
  const sections = reportSections(data)
    .map((s) => {
      const rows =
        s.rows.length === 0
          ? '<tr><td>None</td></tr>'
          : s.rows
              .map(
                ([k, v]) => `<tr><td>${escapeHtml(k)}</td><td class="v">${richText(v)}</td></tr>`,
              )
              .join('');
      const note = s.note === undefined ? '' : `<p class="note">${richText(s.note)}</p>`;
      return `<section data-section="${escapeHtml(s.title)}"><h2>${escapeHtml(s.title)}</h2>${note}<table>${rows}</table></section>`;
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
<div class="meta">Campaign <code>${escapeHtml(data.campaign.id)}</code> · generated ${richText(data.generatedAt)} by fleetscan</div>
${headline(data)}
<div class="grid" style="margin-top:16px">
${sections}
</div>
<section class="chart" id="calls" data-total="${String(data.calls.total)}"><h2>API calls per window against the caps</h2>${callCharts(data)}</section>
</main></body></html>
`;
}
