import type { Command } from 'commander';
import { createAuditLog, type AuditEntry } from '../../audit/audit-log.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson } from './shared/output.js';

const EXAMPLE = `
Examples:
  fleetscan audit                 # the last 50 writes, newest first
  fleetscan audit --limit 500 --json`;

function outcome(e: AuditEntry): string {
  return e.status === null ? e.outcome : `${e.outcome} ${String(e.status)}`;
}

/** `fleetscan audit`: the audit log, as the dashboard's `/audit` page shows it. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'List the audit log, newest first: every write by the CLI, dashboard, API, schedules and workers',
    )
    .option('--limit <n>', 'how many entries (1-1000)', '50')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (options: { limit: string; json?: boolean }, command: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) {
        throw new UsageError(`--limit must be a whole number from 1 to 1000, got ${options.limit}`);
      }
      const { configFor } = await import('../context.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async ({ redis }) => {
        const entries = await createAuditLog(redis, config.redis.prefix).list({ limit });
        if (options.json === true) {
          printJson({ entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
          return;
        }
        if (entries.length === 0) {
          process.stdout.write('The audit log is empty.\n');
          return;
        }
        const rows = entries.map((e) => [
          new Date(e.at).toISOString().slice(0, 19).replace('T', ' '),
          e.who,
          e.source,
          e.action,
          e.target,
          outcome(e),
          e.detail,
        ]);
        process.stdout.write(
          `${formatTable(['WHEN (UTC)', 'WHO', 'SOURCE', 'ACTION', 'TARGET', 'OUTCOME', 'DETAIL'], rows)}\n`,
        );
      });
    });
}
