import type { Command } from 'commander';
import { parseDuration, formatDuration } from '../../config/duration.js';
import type { PruneEntry } from '../../retention/prune-campaigns.js';
import { formatBytes } from '../../retention/format-bytes.js';
import { UsageError } from '../errors.js';
import { count, formatTable } from './shared/output.js';
import { cliAudit } from './shared/cli-audit.js';

interface PruneOptions {
  olderThan?: string;
  dryRun?: boolean;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan prune --dry-run                 # what the retention sweep would archive now
  fleetscan prune --older-than 30d
  fleetscan prune --older-than 12h --json

Archives (see \`fleetscan archive --help\`) every campaign that finished or was cancelled at least
--older-than ago (default retention.keep), and finishes archives a crash left half-done. Running
and paused campaigns are never touched. Exit 1 when any campaign could not be archived.`;

/** `fleetscan prune`: one retention round now, the same code path as the workers' sweep. */
export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('Archive and remove from Redis every campaign that ended longer ago than a limit')
    .option('--older-than <duration>', 'ended at least this long ago (default: retention.keep)')
    .option('--dry-run', 'only list what would be archived; change nothing')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: PruneOptions, command: Command) => {
      const olderThanMs =
        options.olderThan === undefined ? undefined : parseDuration(options.olderThan);
      if (options.olderThan !== undefined && olderThanMs === undefined) {
        throw new UsageError(
          `--older-than must be a duration such as 30d, 12h or 90m, got ${options.olderThan}`,
        );
      }
      const { configFor, printJson } = await import('../context.js');
      const { pruneCampaigns } = await import('../../retention/prune-campaigns.js');
      const { retentionOf, withRetentionLock } = await import('./shared/retention-session.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      const keepMs = olderThanMs ?? config.retention.keep;
      const dryRun = options.dryRun === true;
      await withSession(config, async (session) => {
        const retention = retentionOf(session);
        const run = (heartbeat?: () => Promise<void>) =>
          pruneCampaigns(
            {
              ...retention.pruneDeps(),
              ...(heartbeat ? { heartbeat } : {}),
              audit: cliAudit(session),
            },
            { olderThanMs: keepMs, dryRun },
          );
        const result = dryRun
          ? await run()
          : await withRetentionLock(retention, (lock) => run(() => lock.renew()));
        const failed = result.entries.filter((e) => e.outcome === 'failed');
        if (failed.length > 0) process.exitCode = 1;
        if (options.json === true) {
          printJson({ olderThanMs: keepMs, dryRun, archiveDir: retention.archiveDir, ...result });
          return;
        }
        process.stdout.write(`${describe(result.entries, result.kept, keepMs, dryRun)}\n`);
      });
    });
}

function describe(entries: readonly PruneEntry[], kept: number, keepMs: number, dryRun: boolean) {
  const age = formatDuration(keepMs);
  const tail = `${count(kept)} campaigns kept (running, paused, or ended less than ${age} ago).`;
  if (entries.length === 0) return `Nothing to archive. ${tail}`;
  const rows = entries.map((e) => [
    e.campaignId,
    e.outcome,
    e.state,
    count(e.devices),
    e.endedAt === null ? '–' : new Date(e.endedAt).toISOString().slice(0, 16).replace('T', ' '),
    e.archive ? formatBytes(e.archive.bytes) : '',
    e.error ?? e.name,
  ]);
  const table = formatTable(
    ['CAMPAIGN', 'OUTCOME', 'STATE', 'DEVICES', 'ENDED (UTC)', 'ARCHIVE', 'NAME / ERROR'],
    rows,
  );
  const verb = dryRun ? 'Would archive' : 'Archived';
  const done = entries.filter((e) => e.outcome !== 'failed').length;
  return `${table}\n${verb} ${count(done)} campaigns${dryRun ? ' (dry run: nothing changed)' : ''}. ${tail}`;
}
