import type { Command } from 'commander';
import type { Campaign } from '../../../campaigns/campaign.js';
import { parseDuration } from '../../../config/duration.js';
import { describeBlocked, readBlockedTenants } from '../../../lanes/blocked-tenants.js';
import {
  readAllNextAttempts,
  readNextAttempts,
  type NextAttempt,
} from '../../../lanes/next-attempts.js';
import { budgetIdFor } from '../../../limiter/scan-limiter.js';
import { readSlotExits } from '../../../limiter/slot-exits.js';
import { systemClock } from '../../../shared/clock.js';
import { UsageError } from '../../errors.js';
import { isDone, readBudget, readCampaignStatus, remainingOf } from './campaign-status.js';
import { count, printJson } from './output.js';
import {
  describeBudget,
  describeNoWorkers,
  describeWorkers,
  renderCampaign,
  renderCampaignTable,
  describeNextRetry,
  renderProgress,
} from './render-status.js';
import { isArchived } from '../../../retention/campaign-reader.js';
import { describeArchive, describeArchivedCount } from '../../../retention/describe-archive.js';
import { follow, type FollowOptions, type FollowView } from './follow.js';
import {
  lacksWorkers,
  listWorkers,
  WORKER_HEARTBEAT_MS,
  type LiveWorker,
} from '../../../ops/worker-presence.js';
import { createOutageRider, reconnectIfEnded } from '../../../runtime/redis-outage.js';
import { checkStoreIdentity, clearStoreLoss } from '../../../ops/store-identity.js';
import { parseStates, STORE_LOST_EXIT, type StatusOptions } from '../status.js';

/** `fleetscan status [ID]`'s work: read the campaigns, budget and workers once, or follow them. */
export async function runStatus(
  id: string | undefined,
  options: StatusOptions,
  command: Command,
): Promise<void> {
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
  const { configFor, loggerFor } = await import('../../context.js');
  const { limiterFromConfig } = await import('../../../runtime/limiter-from-config.js');
  const { requireAnyCampaign, retentionOf } = await import('./retention-session.js');
  const { withReadSession } = await import('./session.js');
  const { describeRedisUrl } = await import('../../../shared/redis.js');
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
      session.tenants.names.includes('default') ? session.lanes.forTenant('default').reserve : [];
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
              await readNextAttempts(session.redis, session.lanes.forTenant(tenant.name).keys.due)
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
    if (options.exitStatus === true && status.campaign.counts.failed > 0) process.exitCode ??= 1;
  });
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
