import type { Command } from 'commander';
import type { CampaignStore } from '../../campaigns/campaign-store.js';
import { SCHEDULE_NAME } from '../../schedules/schedule.js';
import type { ScheduleStore } from '../../schedules/schedule-store.js';
import { UsageError } from '../errors.js';
import { count, formatTable, printJson } from './shared/output.js';
import { audited, type AuditWrite } from '../../audit/record-audit.js';
import { cliAudit } from './shared/cli-audit.js';

interface JsonOption {
  json?: boolean;
}

/** Runs `work` with the schedule store of this configuration; a write (`audit`) is audited. */
async function withSchedules<T>(
  command: Command,
  work: (store: ScheduleStore, now: number, campaigns: CampaignStore) => Promise<T>,
  audit?: AuditWrite<T>,
): Promise<T> {
  const { configFor } = await import('../context.js');
  const { scheduleClockFrom } = await import('../../runtime/runtime-schedules.js');
  const { createScheduleStore } = await import('../../schedules/schedule-store.js');
  const { withSession } = await import('./shared/session.js');
  const config = configFor(command);
  return withSession(config, (session) => {
    const run = () =>
      work(
        createScheduleStore(session.redis, config.redis.prefix),
        scheduleClockFrom(config).now(),
        session.store,
      );
    return audit ? audited(cliAudit(session), audit, run) : run();
  });
}

async function requireSchedule(store: ScheduleStore, name: string) {
  if (!SCHEDULE_NAME.test(name)) throw new UsageError(`"${name}" is not a schedule name`);
  const found = await store.get(name);
  if (!found)
    throw new UsageError(`No schedule "${name}". List them with \`fleetscan schedule list\`.`);
  return found;
}

function out(json: boolean | undefined, value: unknown, text: string) {
  if (json === true) printJson(value);
  else process.stdout.write(`${text}\n`);
}

/** `list`, `show`, `pause`, `resume`, `remove`, `history`. */
export function registerScheduleManage(schedule: Command): void {
  schedule
    .command('list')
    .description('List the schedules with their next fire and last run')
    .option('--json', 'print one JSON array')
    .addHelpText('after', '\nExample:\n  fleetscan schedule list --json')
    .action(async (options: JsonOption, command: Command) => {
      const { scheduleView } = await import('../../schedules/schedule-view.js');
      const { lastRunText } = await import('./schedule-lines.js');
      await withSchedules(command, async (store) => {
        const views = await Promise.all(
          (await store.list()).map(async (s) =>
            scheduleView(s, (await store.history(s.spec.name, 1))[0] ?? null),
          ),
        );
        const rows = views.map((v) => [
          v.name,
          `${v.cron} ${v.tz}`,
          v.paused ? `paused${v.note ? `: ${v.note}` : ''}` : 'active',
          v.nextFire ? `${v.nextFire.local} (${v.nextFire.utc.slice(0, 16)}Z)` : 'none',
          v.lastRun ? lastRunText(v.lastRun) : 'never',
        ]);
        out(
          options.json,
          views,
          views.length === 0
            ? 'No schedules. Add one with `fleetscan schedule add` or `fleetscan schedule apply`.'
            : formatTable(['NAME', 'CRON', 'STATE', 'NEXT FIRE', 'LAST RUN'], rows),
        );
      });
    });

  schedule
    .command('show')
    .argument('<name>', 'schedule name')
    .description('Show a schedule: definition, state, next fires and recent runs')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan schedule show nightly-servers')
    .action(async (name: string, options: JsonOption, command: Command) => {
      const { scheduleView, upcoming } = await import('../../schedules/schedule-view.js');
      const { historyLine, spanOrNone } = await import('./schedule-lines.js');
      await withSchedules(command, async (store, now) => {
        const found = await requireSchedule(store, name);
        const history = await store.history(name, 5);
        const view = scheduleView(found, history[0] ?? null);
        const next = view.nextFire ? upcoming(found, Math.max(found.state.cursor, now), 5) : [];
        const lines = [
          `Schedule ${name}: ${found.spec.cron} (${found.spec.tz}), ${view.targets}`,
          `  ${found.spec.scanType} scan, comment "${found.spec.comment}", tenant ${found.spec.tenant}, priority ${found.spec.priority}`,
          `  overlap ${found.spec.overlap}, catch-up ${spanOrNone(found.spec.catchupMs)}` +
            `, jitter ${spanOrNone(found.spec.jitterMs)}, window ${view.window ?? 'none'}`,
          `  ${view.paused ? `PAUSED${view.note ? `: ${view.note}` : ''}` : 'active'}, ${count(view.runs)} runs` +
            (view.maxRuns === null ? '' : ` of at most ${count(view.maxRuns)}`),
          `  Next fires${found.spec.jitterMs > 0 ? ' (jitter included)' : ''}: ${next.length === 0 ? 'none' : next.map((i) => `${i.local} (${i.utc})`).join(', ')}`,
          ...(view.claimedRun
            ? [
                `  Claimed run ${view.claimedRun.planned.local} → campaign ${view.claimedRun.campaignId}: ` +
                  'being started (a worker completes it if the one that claimed it stopped)',
              ]
            : []),
          '  Recent runs:',
          ...(history.length === 0
            ? ['    none yet']
            : history.map((r) => `    ${historyLine(r, found.spec.tz)}`)),
        ];
        out(options.json, { ...view, spec: found.spec, upcoming: next, history }, lines.join('\n'));
      });
    });

  schedule
    .command('pause')
    .argument('<name>', 'schedule name')
    .description(
      'Pause a schedule: no fires until resumed (fires of the paused span are not made up)',
    )
    .option('--note <text>', 'why, shown in list, show and on the dashboard')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExample:\n  fleetscan schedule pause nightly-servers --note "change freeze until 2 Jan"',
    )
    .action(async (name: string, options: JsonOption & { note?: string }, command: Command) => {
      await withSchedules(
        command,
        async (store, now) => {
          await requireSchedule(store, name);
          await store.setPaused(name, true, options.note ?? null, now);
          out(
            options.json,
            { name, paused: true, note: options.note ?? null },
            `Schedule ${name} paused.`,
          );
        },
        { action: 'schedule.pause', target: name, detail: () => options.note ?? '' },
      );
    });

  schedule
    .command('resume')
    .argument('<name>', 'schedule name')
    .description('Resume a paused schedule from now on')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan schedule resume nightly-servers')
    .action(async (name: string, options: JsonOption, command: Command) => {
      const { scheduleView } = await import('../../schedules/schedule-view.js');
      await withSchedules(
        command,
        async (store, now) => {
          await requireSchedule(store, name);
          await store.setPaused(name, false, null, now);
          const view = scheduleView(await requireSchedule(store, name), null);
          out(
            options.json,
            { name, paused: false, nextFire: view.nextFire },
            `Schedule ${name} resumed; next fire ${view.nextFire ? `${view.nextFire.local} (${view.nextFire.utc})` : 'none'}.`,
          );
        },
        { action: 'schedule.resume', target: name },
      );
    });

  schedule
    .command('remove')
    .argument('<name>', 'schedule name')
    .description('Remove a schedule and its history (its campaigns stay)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan schedule remove nightly-servers')
    .action(async (name: string, options: JsonOption, command: Command) => {
      await withSchedules(
        command,
        async (store) => {
          await requireSchedule(store, name);
          await store.remove(name);
          out(options.json, { name, removed: true }, `Schedule ${name} removed.`);
        },
        { action: 'schedule.remove', target: name },
      );
    });

  schedule
    .command('history')
    .argument('<name>', 'schedule name')
    .description('Run history: planned and actual time, outcome, campaign and counts per fire')
    .option('--limit <n>', 'newest entries to show', '20')
    .option('--json', 'print one JSON array')
    .addHelpText(
      'after',
      '\nExample:\n  fleetscan schedule history nightly-servers --limit 50 --json',
    )
    .action(async (name: string, options: JsonOption & { limit: string }, command: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`Expected --limit to be a whole number ≥ 1, got ${options.limit}`);
      const { historyLine } = await import('./schedule-lines.js');
      await withSchedules(command, async (store, _now, campaigns) => {
        const found = await requireSchedule(store, name);
        const history = await store.history(name, limit);
        // The run's campaign as it stands now (its counts move on after the fire).
        const withCampaigns = await Promise.all(
          history.map(async (r) => {
            const campaign = r.campaignId ? await campaigns.getCampaign(r.campaignId) : null;
            return {
              ...r,
              campaign: campaign
                ? { state: campaign.state, total: campaign.total, counts: campaign.counts }
                : null,
            };
          }),
        );
        out(
          options.json,
          withCampaigns,
          history.length === 0
            ? `Schedule ${name} has not fired yet.`
            : history.map((r) => historyLine(r, found.spec.tz)).join('\n'),
        );
      });
    });
}
