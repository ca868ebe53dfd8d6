import type { Command } from 'commander';
import { CAMPAIGN_STATES, type Campaign, type CampaignState } from '../../campaigns/campaign.js';
import { parseDuration } from '../../config/duration.js';
import { describeBlocked, readBlockedTenants } from '../../lanes/blocked-tenants.js';
import {
  readAllNextAttempts,
  readNextAttempts,
  type NextAttempt,
} from '../../lanes/next-attempts.js';
import { budgetIdFor } from '../../limiter/scan-limiter.js';
import { readSlotExits } from '../../limiter/slot-exits.js';
import { systemClock } from '../../shared/clock.js';
import { UsageError } from '../errors.js';
import { isDone, readBudget, readCampaignStatus, remainingOf } from './shared/campaign-status.js';
import { count, printJson } from './shared/output.js';
import {
  describeBudget,
  describeNoWorkers,
  describeWorkers,
  renderCampaign,
  renderCampaignTable,
  describeNextRetry,
  renderProgress,
} from './shared/render-status.js';
import { isArchived } from '../../retention/campaign-reader.js';
import { describeArchive, describeArchivedCount } from '../../retention/describe-archive.js';
import { follow, type FollowOptions, type FollowView } from './shared/follow.js';
import {
  lacksWorkers,
  listWorkers,
  WORKER_HEARTBEAT_MS,
  type LiveWorker,
} from '../../ops/worker-presence.js';
import { createOutageRider, reconnectIfEnded } from '../../runtime/redis-outage.js';
import { checkStoreIdentity, clearStoreLoss } from '../../ops/store-identity.js';

/** Exit code when Redis lost data (the loss record of src/ops/store-identity.ts is present). */
export const STORE_LOST_EXIT = 3;

interface StatusOptions {
  state?: string;
  wait?: boolean;
  json?: boolean;
  exitStatus?: boolean;
  ackStoreLoss?: boolean;
  interval: string;
  warnWithoutWorkers: string;
}

const EXAMPLE = `
Examples:
  fleetscan status                          # every campaign, newest first
  fleetscan status --state running,paused   # only campaigns in these states
  fleetscan status c-mhx1y2z3a1b2 --json
  fleetscan status c-mhx1y2z3a1b2 --wait --exit-status && echo "no device failed"
  fleetscan status --wait                   # until no campaign has devices waiting

Exit codes: 0, also when some devices failed (unless --exit-status: then 1); 1 on bad input,
an unknown campaign or an unreachable Redis; 3 when Redis lost data (the message says what to
re-run; then acknowledge with --ack-store-loss). Run with the same credentials settings as the
workers so that the budget shown is theirs.`;

/** `fleetscan status [ID]`: counts, budget, ETA; `--wait` follows a campaign to its end. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .argument('[id]', 'campaign id (default: every campaign)')
    .description('Show campaign progress: devices per state, failures, API budget used, ETA')
    .option(
      '--wait',
      'follow the campaign (without ID: every campaign) until nothing is queued or deferred (through pauses)',
    )
    .option(
      '--state <states>',
      `without ID: only campaigns in these states (comma-separated: ${CAMPAIGN_STATES.join(', ')})`,
    )
    .option('--json', 'print one JSON object (with --wait: the final one)')
    .option('--exit-status', 'exit 1 when any device failed')
    .option('--interval <duration>', 'how often --wait looks', '2s')
    .option(
      '--warn-without-workers <duration>',
      '--wait warns once when devices have waited this long with no live worker',
      '30s',
    )
    .option(
      '--ack-store-loss',
      'after a Redis data loss: say the lost campaigns were re-run (clears the loss report)',
    )
    .addHelpText('after', EXAMPLE)
    .action(async (id: string | undefined, options: StatusOptions, command: Command) => {
      const intervalMs = parseDuration(options.interval);
      if (intervalMs === undefined || intervalMs < 100) {
        throw new UsageError(
          `--interval must be a duration of at least 100ms, got ${options.interval}`,
        );
      }
      const warnWithoutWorkersMs = parseDuration(options.warnWithoutWorkers);
      if (warnWithoutWorkersMs === undefined) {
        throw new UsageError(
          `--warn-without-workers must be a duration such as 30s, got ${options.warnWithoutWorkers}`,
        );
      }
      const states = parseStates(options.state);
      if (states !== null && id !== undefined)
        throw new UsageError('--state filters the list of campaigns: give it without an ID');
      const { configFor, loggerFor } = await import('../context.js');
      const { limiterFromConfig } = await import('../../runtime/limiter-from-config.js');
      const { requireAnyCampaign, retentionOf } = await import('./shared/retention-session.js');
      const { withReadSession } = await import('./shared/session.js');
      const { describeRedisUrl } = await import('../../shared/redis.js');
      const config = configFor(command);
      const log = loggerFor(config, 'fleetscan-status');
      await withReadSession(config, async (session) => {
        if (options.ackStoreLoss === true) {
          const cleared = await clearStoreLoss(session.redis, config.redis.prefix);
          process.stdout.write(
            cleared ? 'Store loss acknowledged.\n' : 'No store loss was reported.\n',
          );
          return;
        }
        const identity = await checkStoreIdentity(session.redis, config.redis.prefix);
        if (!identity.ok) {
          process.stderr.write(`Error: ${identity.problem}\n${identity.fix}\n`);
          process.exitCode = STORE_LOST_EXIT;
        }
        const storeField = identity.ok
          ? { ok: true }
          : { ok: false, problem: identity.problem, fix: identity.fix, loss: identity.loss };
        const followOptions: FollowOptions = {
          intervalMs,
          warnWithoutWorkersMs,
          out: options.json === true ? process.stderr : process.stdout,
          clock: systemClock,
          outage: createOutageRider({
            toleranceMs: config.redis.outageTolerance,
            where: describeRedisUrl(config.redis.url),
            clock: systemClock,
            say: (message) => process.stderr.write(`${message}\n`),
          }),
          beforeRetry: () => {
            reconnectIfEnded(session.redis);
          },
        };
        const readWorkers = () =>
          listWorkers(session.redis, config.redis.prefix, { intervalMs: WORKER_HEARTBEAT_MS });
        const limiter = limiterFromConfig(config, session.redis, log);
        const budgetId = budgetIdFor(config);
        const defaultReserve = () =>
          session.tenants.names.includes('default')
            ? session.lanes.forTenant('default').reserve
            : [];
        if (id === undefined) {
          const readAll = async () => ({
            campaigns: withNextAttempts(
              (await session.store.listCampaigns()).filter(
                (c) => states === null || states.includes(c.state),
              ),
              await readAllNextAttempts(
                session.redis,
                session.lanes.all().map((lane) => lane.keys.due),
              ),
            ),
            budget: await readBudget(
              limiter,
              budgetId,
              defaultReserve(),
              session.tenants.names.includes('default')
                ? session.lanes.forTenant('default').breaker
                : undefined,
            ),
            blocked: await readBlockedTenants(session),
            workers: await readWorkers(),
          });
          const { campaigns, budget, blocked, workers } =
            options.wait === true
              ? await follow(readAll, renderAllProgress, followOptions)
              : await readAll();
          const archived = await retentionOf(session).reader.listArchived();
          const blockedLines = blocked.map((b) => `${describeBlocked(b.tenant, b)}\n`).join('');
          const workerLines = describeWorkers(workers).join('\n');
          if (options.json === true)
            printJson({ campaigns, budget, blocked, workers, archived, store: storeField });
          else if (campaigns.length === 0 && states !== null)
            process.stdout.write(
              `No campaign is ${states.join(' or ')}.\n${describeBudget(budget)}\n${blockedLines}${workerLines}\n`,
            );
          else {
            process.stdout.write(
              `${renderCampaignTable(campaigns)}\n${describeBudget(budget)}\n${blockedLines}${workerLines}\n`,
            );
            for (const campaign of campaigns.filter((c) => lacksWorkers(c, workers)))
              process.stdout.write(`${campaign.id}: ${describeNoWorkers(campaign)}\n`);
            for (const campaign of campaigns.filter((c) => c.nextAttemptAt !== null))
              process.stdout.write(`${campaign.id}: ${describeNextRetry(campaign, '')}\n`);
            if (archived.length > 0)
              process.stdout.write(`${describeArchivedCount(archived.length)}\n`);
          }
          if (options.exitStatus === true && campaigns.some((c) => c.counts.failed > 0)) {
            process.exitCode ??= 1;
          }
          return;
        }
        const read = async () => {
          const campaign = await requireAnyCampaign(retentionOf(session), id);
          // The campaign's own tenant's budget (tenants of one identity share it).
          const tenant = session.tenants.names.includes(campaign.tenant)
            ? session.tenants.get(campaign.tenant)
            : null;
          return readCampaignStatus({
            store: session.store,
            redis: session.redis,
            budget: tenant
              ? await readBudget(
                  tenant.limiter,
                  tenant.budgetId,
                  session.lanes.forTenant(tenant.name).reserve,
                  session.lanes.forTenant(tenant.name).breaker,
                )
              : await readBudget(limiter, budgetId),
            campaign,
            prefix: config.redis.prefix,
            slotExits: await readSlotExits(session.redis, config),
            workers: await readWorkers(),
            nextAttempt: tenant
              ? ((
                  await readNextAttempts(
                    session.redis,
                    session.lanes.forTenant(tenant.name).keys.due,
                  )
                ).get(campaign.id) ?? null)
              : null,
          });
        };
        const status =
          options.wait === true
            ? await follow(
                read,
                (st) => ({ line: renderProgress(st), done: st.done, noWorkers: st.noWorkers }),
                followOptions,
              )
            : await read();
        if (options.json === true) printJson({ ...status, store: storeField });
        else process.stdout.write(`${renderCampaign(status)}\n`);
        if (options.json !== true && isArchived(status.campaign)) {
          process.stdout.write(
            `${describeArchive(status.campaign, retentionOf(session).archiveDir)}\n`,
          );
        }
        if (options.exitStatus === true && status.campaign.counts.failed > 0)
          process.exitCode ??= 1;
      });
    });
}

/** `--state running,paused` → the states, or null without the flag; a typo is a UsageError. */
export function parseStates(text: string | undefined): CampaignState[] | null {
  if (text === undefined) return null;
  const states = text.split(',').map((part) => part.trim().toLowerCase());
  const unknown = states.filter((state) => !(CAMPAIGN_STATES as readonly string[]).includes(state));
  if (unknown.length > 0 || states.length === 0)
    throw new UsageError(
      `--state: unknown state ${JSON.stringify(unknown.join(','))}; use ${CAMPAIGN_STATES.join(', ')}`,
    );
  return states as CampaignState[];
}

/** Each campaign with when its next waiting device is due (ISO; null when none waits). */
function withNextAttempts(
  campaigns: readonly Campaign[],
  next: ReadonlyMap<string, NextAttempt>,
): (Campaign & { nextAttemptAt: string | null; devicesDue: number })[] {
  return campaigns.map((campaign) => {
    const due = remainingOf(campaign) > 0 ? next.get(campaign.id) : undefined;
    return {
      ...campaign,
      nextAttemptAt: due ? new Date(due.first).toISOString() : null,
      devicesDue: due?.devices ?? 0,
    };
  });
}

/** Progress of every campaign at once (`status --wait` without an id). */
function renderAllProgress(all: {
  campaigns: readonly Campaign[];
  workers: readonly LiveWorker[];
}): FollowView {
  const left = all.campaigns.filter((c) => !isDone(c));
  const remaining = left.reduce((sum, c) => sum + remainingOf(c), 0);
  const failed = all.campaigns.reduce((sum, c) => sum + c.counts.failed, 0);
  return {
    line: `${count(left.length)} of ${count(all.campaigns.length)} campaigns not finished, ${count(remaining)} devices queued or deferred, ${count(failed)} failed`,
    done: left.length === 0,
    noWorkers: left.some((c) => lacksWorkers(c, all.workers)),
  };
}
