import type { ReportData } from './report-data.js';
import { reportSections } from './report-sections.js';

/** Table cells: pipes and line breaks would break the table. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The report as Markdown: one table per section, then the pace per window as text bars. */
export function renderMarkdown(data: ReportData): string {
  const out = [`# Scan campaign report: ${cell(data.campaign.name)} (${data.campaign.id})`, ''];
  out.push(`Generated ${data.generatedAt} by fleetscan.`, '');
  for (const section of reportSections(data)) {
    out.push(`## ${section.title}`, '');
    if (section.rows.length === 0) {
      out.push('None.', '');
      continue;
    }
    out.push('| | |', '|---|---:|');
    for (const [label, value] of section.rows) out.push(`| ${cell(label)} | ${cell(value)} |`);
    out.push('');
  }
  const { window, buckets } = data.calls;
  out.push(`## Scan requests per window (cap ${String(window.cap)})`, '');
  if (buckets.length === 0) out.push('No requests recorded.', '');
  else {
    out.push('```');
    for (const b of buckets) {
      const bar = '#'.repeat(Math.round((40 * b.requests) / Math.max(window.cap, 1)));
      out.push(`${b.start}  ${String(b.requests).padStart(6)}  ${bar}`);
    }
    out.push('```', '');
  }
  return `${out.join('\n')}\n`;
}
