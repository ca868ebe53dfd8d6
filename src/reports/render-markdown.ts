import type { ReportData } from './report-data.js';
import { reportHeadline } from './report-headline.js';
import { reportSections, windowText } from './report-sections.js';
import { escapeMarkdownInline } from './escape-markdown.js';

/** Every table cell and heading: names, reasons, comments and tenants come from outside. */
const cell = escapeMarkdownInline;

/** The report as Markdown: one table per section, then the API calls per window as text bars. */
export function renderMarkdown(data: ReportData): string {
  const out = [`# Scan campaign report: ${cell(data.campaign.name)} (${data.campaign.id})`, ''];
  out.push(`Generated ${data.generatedAt} by fleetscan.`, '');
  const headline = reportHeadline(data);
  for (const line of [headline.state, headline.killSwitch])
    if (line !== null) out.push(`**${cell(line)}**`, '');
  out.push(`**${cell(headline.proof)}**`, '');
  for (const section of reportSections(data)) {
    out.push(`## ${cell(section.title)}`, '');
    if (section.note !== undefined) out.push(`_${cell(section.note)}_`, '');
    if (section.rows.length === 0) {
      out.push('None.', '');
      continue;
    }
    out.push('| | |', '|---|---:|');
    for (const [label, value] of section.rows) out.push(`| ${cell(label)} | ${cell(value)} |`);
    out.push('');
  }
  out.push('## API calls per window against the caps', '');
  const { calls } = data;
  if (calls.total === 0) out.push('No API calls recorded for this campaign.', '');
  for (const chart of calls.total === 0 ? [] : calls.charts) {
    const { window } = chart;
    const whose = chart.family === null ? 'All families' : `${chart.family} calls`;
    out.push(`${whose} per ${windowText(window.windowMs)} (cap ${String(window.cap)}):`, '', '```');
    for (const b of chart.buckets) {
      const bar = '#'.repeat(Math.round((40 * b.total) / Math.max(window.cap, 1)));
      const families = Object.entries(b.byFamily)
        .map(([f, v]) => `${f} ${String(v)}`)
        .join(', ');
      out.push(`${b.start}  ${String(b.total).padStart(6)}  ${bar}  ${families}`);
    }
    out.push('```', '');
  }
  return `${out.join('\n')}\n`;
}
