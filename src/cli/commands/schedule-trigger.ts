import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { audited } from '../../audit/record-audit.js';
import { SCHEDULE_NAME, type FireRecord } from '../../schedules/schedule.js';
import type { Logger } from '../../shared/logger.js';
import type { DefenderClient } from '../../defender/client.js';
import { UsageError } from '../errors.js';
import { cliAudit } from './shared/cli-audit.js';
import { printJson } from './shared/output.js';
import type { CommandSession } from './shared/session.js';
import type { ScheduleRun } from '../../dashboard/routes/admin.js';

/**
 * `fleetscan schedule trigger NAME`: one run now, from this process, outside the cron plan (the
 * cursor does not move, so the next planned fire still happens). The overlap policy applies:
 * with `skip` or `buffer-one` a trigger while the last run still waits is refused.
 */
export function registerScheduleTrigger(schedule: Command): void {
  schedule
    .command('trigger')
    .argument('<name>', 'schedule name')
    .description('Run a schedule now (resolves its devices and starts its campaign at once)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan schedule trigger nightly-servers --json')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      if (!SCHEDULE_NAME.test(name)) throw new UsageError(`"${name}" is not a schedule name`);
      const { configFor, loggerFor } = await import('../context.js');
      const { historyLine } = await import('./schedule-lines.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-schedule');
      await withSession(config, async (session) => {
        const { entry, tz } = await audited(
          cliAudit(session),
          {
            action: 'schedule.trigger',
            target: name,
            detail: ({ entry: e }) =>
              e.outcome === 'started'
                ? `started ${e.campaignId ?? ''}`
                : `${e.outcome}: ${e.reason ?? ''}`,
            outcome: ({ entry: e }) => (e.outcome === 'started' ? 'ok' : 'failed'),
          },
          () => triggerSchedule(session, name, log, `${userInfo().username}@${hostname()}`),
        );
        if (options.json === true) printJson(entry);
        else process.stdout.write(`${historyLine(entry, tz)}\n`);
        if (entry.outcome !== 'started') process.exitCode = 1;
      });
    });
}

/**
 * Fires `name` once now and records the run in its history (`schedule trigger`, and the
 * dashboard's "Run now", which passes its runtime's parts). `createdBy` goes on the campaign.
 * Throws UsageError for an unknown schedule or a last run still waiting under skip/buffer-one.
 */
export async function triggerSchedule(
  {
    config,
    redis,
    store: campaigns,
    lanes,
  }: Pick<CommandSession, 'config' | 'redis' | 'store' | 'lanes'>,
  name: string,
  log: Logger,
  createdBy: string,
): Promise<{ entry: FireRecord; tz: string }> {
  const { fireSchedule, isRunActive } = await import('../../schedules/fire-schedule.js');
  const { scheduleClockFrom } = await import('../../runtime/runtime-schedules.js');
  const { createScheduleStore } = await import('../../schedules/schedule-store.js');
  const { defenderFromConfig } = await import('./shared/defender-from-config.js');
  const { graphClientFromConfig } = await import('../../runtime/hunting-from-config.js');
  const { tenantConfigOf } = await import('../../tenants/tenant-registry.js');
  const store = createScheduleStore(redis, config.redis.prefix);
  const found = await store.get(name);
  if (!found)
    throw new UsageError(`No schedule "${name}". List them with \`fleetscan schedule list\`.`);
  const last = found.state.lastCampaignId;
  if (
    found.spec.overlap !== 'allow' &&
    last !== null &&
    isRunActive(await campaigns.getCampaign(last))
  ) {
    throw new UsageError(
      `Schedule ${name}'s last run ${last} still has queued or deferred devices ` +
        `(overlap ${found.spec.overlap}); cancel it or wait for it to finish.`,
    );
  }
  let client: DefenderClient | undefined;
  const now = scheduleClockFrom(config).now();
  try {
    const entry = await fireSchedule(
      {
        campaigns,
        lanes,
        lister: (tenant) => (client ??= defenderFromConfig(config, redis, log, tenant).client),
        graph: (tenant) => graphClientFromConfig(tenantConfigOf(config, tenant), redis, log),
        log,
      },
      found.spec,
      {
        planned: now,
        actual: now,
        manual: true,
        createdBy,
      },
    );
    await store.appendHistory(name, entry);
    if (entry.campaignId !== null && entry.outcome === 'started')
      await store.recordRun(name, entry.campaignId);
    return { entry, tz: found.spec.tz };
  } finally {
    client?.close();
  }
}

/**
 * The dashboard's "Run now" (passed to its server by `fleetscan dashboard` and the dashboard
 * worker): `triggerSchedule` with the server's runtime, a refusal said on the page.
 */
export async function runScheduleNow(
  runtime: Pick<CommandSession, 'config' | 'redis' | 'store' | 'lanes'>,
  name: string,
  log: Logger,
  createdBy: string,
): Promise<ScheduleRun> {
  try {
    const { entry } = await triggerSchedule(runtime, name, log, createdBy);
    return { ran: true, entry };
  } catch (error) {
    if (error instanceof UsageError) return { ran: false, message: error.message };
    throw error;
  }
}
