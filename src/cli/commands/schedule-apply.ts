import type { Command } from 'commander';
import { diffSchedules, type ScheduleChange } from '../../schedules/diff-schedules.js';
import { UsageError } from '../errors.js';
import { audited } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';

const EXAMPLE = `
Examples:
  fleetscan schedule apply config/schedules.yaml --dry-run
  fleetscan schedule apply config/schedules.yaml --json

The file is the whole truth: schedules it does not name are removed. Applying it twice changes
nothing; a schedule whose cron, zone or start changed counts its next fire from now.`;

/** `fleetscan schedule apply FILE`: makes the stored schedules match a YAML file. */
export function registerScheduleApply(schedule: Command): void {
  schedule
    .command('apply')
    .argument('<file>', 'schedules.yaml (a top-level `schedules:` list)')
    .description('Make the stored schedules match a YAML file (config as code)')
    .option('--dry-run', 'print what would change, change nothing')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(
      async (file: string, options: { dryRun?: boolean; json?: boolean }, command: Command) => {
        const { configFor, printJson } = await import('../context.js');
        const { readSchedulesFile } = await import('../../schedules/read-schedules-file.js');
        const { scheduleClockFrom } = await import('../../runtime/runtime-schedules.js');
        const { ScheduleSpecError } = await import('../../schedules/schedule-spec.js');
        const { createScheduleStore } = await import('../../schedules/schedule-store.js');
        const { withSession } = await import('./shared/session.js');
        const wanted = await readSchedulesFile(file).catch((error: unknown) => {
          if (error instanceof ScheduleSpecError)
            throw new UsageError(error.message, { cause: error });
          throw error;
        });
        const config = configFor(command);
        await withSession(config, async (session) => {
          const store = createScheduleStore(session.redis, config.redis.prefix);
          const stored = (await store.list()).map((s) => s.spec);
          const changes = diffSchedules(stored, wanted);
          const dryRun = options.dryRun === true;
          if (!dryRun) {
            const now = scheduleClockFrom(config).now();
            const byName = new Map(wanted.map((spec) => [spec.name, spec]));
            const sink = cliAudit(session);
            for (const change of changes) {
              const spec = byName.get(change.name);
              await audited(
                sink,
                {
                  action: `schedule.${change.action}`,
                  target: change.name,
                  detail: () => `apply ${file}`,
                },
                async () => {
                  if (change.action === 'remove') await store.remove(change.name);
                  else if (spec) await store.put(spec, now);
                },
              );
            }
          }
          if (options.json === true) {
            printJson({
              file,
              dryRun,
              changes,
              unchanged: wanted.length - changes.filter((c) => c.action !== 'remove').length,
            });
            return;
          }
          process.stdout.write(`${describe(changes, dryRun)}\n`);
        });
      },
    );
}

function describe(changes: readonly ScheduleChange[], dryRun: boolean): string {
  if (changes.length === 0) return 'Schedules already match the file; nothing to change.';
  const sign = { create: '+', update: '~', remove: '-' } as const;
  const lines = changes.flatMap((c) => [
    `${sign[c.action]} ${c.name}${c.action === 'update' ? '' : ` (${c.action})`}`,
    ...c.fields.map((f) => `    ${f.field}: ${f.before} → ${f.after}`),
  ]);
  return [
    ...lines,
    dryRun ? '(dry run: nothing changed)' : `${String(changes.length)} changes applied.`,
  ].join('\n');
}
