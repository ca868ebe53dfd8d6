import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { audited } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';

interface AddOptions {
  cron: string;
  tz: string;
  tag: string[];
  group?: string;
  query?: string;
  hunting?: string;
  devices?: string;
  column?: string;
  all?: boolean;
  includeInactive?: boolean;
  scanType: string;
  comment: string;
  tenant: string;
  priority: string;
  overlap: string;
  catchup: string;
  window?: string;
  jitter: string;
  start?: string;
  end?: string;
  maxRuns?: string;
  json?: boolean;
}

const EXAMPLE = `
Examples:
  fleetscan schedule add nightly-servers --cron "0 2 * * *" --tz Europe/Berlin --tag Servers \\
    --window 01:00-05:00 --jitter 10m --comment "Nightly quick scan"
  fleetscan schedule add weekly-full --cron "0 22 * * 6" --all --scan-type Full \\
    --overlap buffer-one --catchup 2h --comment "Weekly full scan" --json
  fleetscan schedule add list-from-cmdb --cron "30 6 * * 1-5" --devices /srv/cmdb/ids.csv --comment "CMDB list"

The device file is read again at every fire; tags, groups and queries are resolved at every fire.`;

/** `fleetscan schedule add NAME`: stores a new schedule; running workers fire it. */
export function registerScheduleAdd(schedule: Command): void {
  schedule
    .command('add')
    .argument('<name>', 'schedule name (letters, digits, _ . -)')
    .description('Add a schedule that starts a campaign at each planned time')
    .requiredOption('--cron <expr>', 'cron expression (5 fields, or 6 with seconds)')
    .option('--tz <zone>', 'IANA time zone of the cron expression and the window', 'UTC')
    .option('--tag <tag>', 'devices carrying this tag (repeatable: any of them)', collect, [])
    .option('--group <name>', 'devices of this device group (rbacGroupName)')
    .option('--query <odata>', 'List Machines $filter selecting the devices')
    .option('--devices <file>', 'file of machine ids, read again at every fire')
    .option('--column <name>', 'the id column or key of --devices')
    .option('--all', 'every eligible device of the tenant')
    .option(
      '--hunting <kql>',
      'devices from an advanced hunting query with a DeviceId column, run at every fire',
    )
    .option('--include-inactive', 'also target devices not seen for 7 days')
    .option('--scan-type <type>', 'Quick or Full', 'Quick')
    .requiredOption('--comment <text>', 'reason recorded with every MachineAction')
    .option('--tenant <name>', 'tenant whose devices and budget the runs use', 'default')
    .option('--priority <class>', 'urgent, normal or background', 'background')
    .option(
      '--overlap <policy>',
      'skip, buffer-one or allow (while the last run still waits)',
      'skip',
    )
    .option('--catchup <duration>', 'a fire found later than this is recorded missed', '1h')
    .option('--window <HH:MM-HH:MM>', 'dispatch devices only inside this local-time window')
    .option('--jitter <duration>', 'delay each fire by a stable random 0..duration', '0s')
    .option('--start <iso>', 'no fire before this date-time')
    .option('--end <iso>', 'no fire after this date-time')
    .option('--max-runs <n>', 'stop after this many runs')
    .option('--json', 'print one JSON object')
    .addHelpText('after', EXAMPLE)
    .action(async (name: string, options: AddOptions, command: Command) => {
      const input = {
        name,
        cron: options.cron,
        tz: options.tz,
        tags: options.tag,
        group: options.group,
        query: options.query,
        devices: options.devices,
        column: options.column,
        all: options.all === true,
        hunting: options.hunting,
        includeInactive: options.includeInactive === true,
        scanType: options.scanType,
        comment: options.comment,
        tenant: options.tenant,
        priority: options.priority,
        overlap: options.overlap,
        catchup: options.catchup,
        window: options.window,
        jitter: options.jitter,
        start: options.start,
        end: options.end,
        maxRuns: options.maxRuns === undefined ? undefined : wholeNumber(options.maxRuns),
      };
      const spec = await parseSpec(input);
      const { configFor, printJson } = await import('../context.js');
      const { createScheduleStore } = await import('../../schedules/schedule-store.js');
      const { scheduleClockFrom } = await import('../../runtime/runtime-schedules.js');
      const { scheduleView } = await import('../../schedules/schedule-view.js');
      const { withSession } = await import('./shared/session.js');
      const { spanOrNone } = await import('./schedule-lines.js');
      const config = configFor(command);
      await withSession(config, async (session) => {
        const store = createScheduleStore(session.redis, config.redis.prefix);
        const stored = await audited(
          cliAudit(session),
          { action: 'schedule.create', target: name, detail: () => `${spec.cron} (${spec.tz})` },
          async () => {
            if (await store.get(name))
              throw new UsageError(
                `A schedule named "${name}" exists; remove it first or change it with \`fleetscan schedule apply\`.`,
              );
            await store.put(spec, scheduleClockFrom(config).now());
            const found = await store.get(name);
            if (!found) throw new UsageError(`Schedule "${name}" vanished while it was added`);
            return found;
          },
        );
        const view = scheduleView(stored, null);
        if (options.json === true) {
          printJson({ created: true, spec, schedule: view });
          return;
        }
        process.stdout.write(
          `Schedule ${name} added: ${spec.cron} (${spec.tz}), ${view.targets}.\n` +
            `  Catch-up ${spanOrNone(spec.catchupMs)}, jitter ${spanOrNone(spec.jitterMs)}.\n` +
            `  Next fire${spec.jitterMs > 0 ? ' (jitter included)' : ''}: ${view.nextFire ? `${view.nextFire.local} (${view.nextFire.utc})` : 'none'}\n` +
            '  Workers (`fleetscan worker`) fire it; watch it with `fleetscan schedule show ' +
            `${name}\`.\n`,
        );
      });
    });
}

async function parseSpec(input: Record<string, unknown>) {
  const { buildScheduleSpec, ScheduleSpecError } = await import('../../schedules/schedule-spec.js');
  try {
    return buildScheduleSpec(dropUndefined(input), 'schedule add', process.cwd());
  } catch (error) {
    if (error instanceof ScheduleSpecError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function dropUndefined(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`Expected --max-runs to be a whole number ≥ 1, got ${text}`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
