import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { writeWhole } from './shared/write-whole.js';

const FORMATS = ['md', 'html'] as const;
type ReportFormat = (typeof FORMATS)[number];

interface ReportOptions {
  format: string;
  out?: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan report c-mhx1y2z3a1b2 > report.md
  fleetscan report c-mhx1y2z3a1b2 --format html --out report.html
  fleetscan report c-mhx1y2z3a1b2 --json | jq .proof

Shows targets (and what was skipped, by reason), outcomes, action statuses, proof of completion
(run \`fleetscan verify\` first), kill-switch results, failures by reason, every API call made for the campaign
per window against each cap, duration against the floor the caps allow, and who/when/comment/schedule.
Every number is counted from the same device records \`fleetscan export\` writes. The HTML is one
self-contained file (no scripts, fonts or images to fetch).`;

/** `fleetscan report ID`: an auditor's account of one campaign. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .argument('<id>', 'campaign id')
    .description('Write a campaign report (Markdown or self-contained HTML)')
    .option('--format <format>', FORMATS.join(', '), 'md')
    .option('--out <file>', 'write here (complete or not at all) instead of stdout')
    .option('--json', 'print the report data as one JSON object instead')
    .addHelpText('after', EXAMPLE)
    .action(async (id: string, options: ReportOptions, command: Command) => {
      const format = options.format.toLowerCase();
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(
          `--format must be one of ${FORMATS.join(', ')}, got ${options.format}`,
        );
      }
      const { configFor, printJson } = await import('../context.js');
      const { decodeIntake } = await import('../../reports/intake-record.js');
      const { buildReportData } = await import('../../reports/report-data.js');
      const { renderHtml } = await import('../../reports/render-html.js');
      const { renderMarkdown } = await import('../../reports/render-markdown.js');
      const { readCallTimeline } = await import('../../metrics/call-timeline.js');
      const { decodeLifecycle } = await import('../../tracking/lifecycle-store.js');
      const { requireAnyCampaign, retentionOf } = await import('./shared/retention-session.js');
      const { withReadSession } = await import('./shared/session.js');
      const { fileModesOf } = await import('../../runtime/retention-from-config.js');
      const config = configFor(command);
      await withReadSession(config, async (session) => {
        const retention = retentionOf(session);
        const campaign = await requireAnyCampaign(retention, id);
        const lifecycle = await retention.lifecycleFields(campaign);
        const data = await buildReportData({
          campaign,
          lifecycle: decodeLifecycle(lifecycle),
          skipped: decodeIntake(lifecycle),
          devices: retention.reader.iterateDevices(id),
          windows: config.limits.windows,
          calls: await readCallTimeline(session.redis, config.redis.prefix, id),
          budgetScope: config.limits.budgetScope,
          nowMs: Date.now(),
        });
        if (options.json === true) {
          printJson(data);
          return;
        }
        const text = (format as ReportFormat) === 'html' ? renderHtml(data) : renderMarkdown(data);
        if (options.out === undefined) {
          process.stdout.write(text);
          return;
        }
        await writeWhole(options.out, text, fileModesOf(config));
        process.stdout.write(`Wrote the ${format} report of ${id} to ${options.out}\n`);
      });
    });
}
