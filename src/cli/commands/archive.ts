import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { formatBytes } from '../../retention/format-bytes.js';
import { count } from './shared/output.js';
import { audited } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';

const EXAMPLE = `
Examples:
  fleetscan archive c-mhx1y2z3a1b2
  fleetscan archive c-mhx1y2z3a1b2 --json

Writes the campaign's full export (every device row, counts, meta) as gzip NDJSON to
retention.archiveDir, reads it back to verify it, then removes the campaign from Redis in small
batches. Only finished or cancelled campaigns; safe to repeat (an interrupted run is finished).
\`fleetscan export\` and \`status\` keep working on it, from the archive. Workers refresh action
statuses for 24 h after a campaign finishes; an archive made sooner keeps the statuses of that moment.`;

/** `fleetscan archive ID`: archives one ended campaign now, whatever its age. */
export function registerArchiveCommand(program: Command): void {
  program
    .command('archive')
    .argument('<id>', 'campaign id')
    .description('Archive a finished or cancelled campaign to a file now and remove it from Redis')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const { configFor, printJson } = await import('../context.js');
      const { archiveCampaign, NotArchivableError } =
        await import('../../retention/archive-campaign.js');
      const { retentionOf, withRetentionLock } = await import('./shared/retention-session.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async (session) => {
        const retention = retentionOf(session);
        const result = await audited(
          cliAudit(session),
          {
            action: 'campaign.archive',
            target: id,
            detail: (r) =>
              r.outcome === 'already-archived'
                ? 'already archived'
                : `${String(r.campaign.archived.devices)} devices archived to ${r.campaign.archived.file}, removed from Redis`,
          },
          () =>
            withRetentionLock(retention, (lock) =>
              archiveCampaign(
                { ...retention.pruneDeps(), heartbeat: () => lock.renew() },
                id,
              ).catch((error: unknown) => {
                if (error instanceof NotArchivableError) throw new UsageError(error.message);
                throw error;
              }),
            ),
        );
        const a = result.campaign.archived;
        const file = `${retention.archiveDir}/${a.file}`;
        if (options.json === true) {
          printJson({ ...result, file });
          return;
        }
        const perDevice = a.devices > 0 ? `, ${formatBytes(a.bytes / a.devices)}/device` : '';
        process.stdout.write(
          result.outcome === 'already-archived'
            ? `Campaign ${id} was already archived to ${file}.\n`
            : `Archived campaign ${id} (${count(a.devices)} devices) to ${file} (${formatBytes(a.bytes)}${perDevice}); ` +
                `removed ${count(result.removed)} device records from Redis.\n`,
        );
      });
    });
}
