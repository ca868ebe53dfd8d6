import type { Redis } from '../shared/redis.js';
import type { Campaign } from '../campaigns/campaign.js';
import { campaignCreatedAt } from '../campaigns/campaign-id.js';
import type { RedisCampaignStore } from '../campaigns/redis-campaign-store.js';
import { createRetentionLock } from '../retention/retention-lock.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { listOwnActions, type MachineActionLister } from '../tracking/find-own-action.js';

export interface ReconcileDeps {
  store: Pick<
    RedisCampaignStore,
    'getCampaign' | 'addDevices' | 'markRequested' | 'finishReconcile'
  >;
  /** Command connection, for the per-campaign lock (one pass at a time over every process). */
  redis: Redis;
  prefix: string;
  clientFor(tenant: string): MachineActionLister;
  clock: Clock;
  log: Logger;
  /** How long a pass may hold the campaign's lock before another process may take over. */
  lockMs?: number;
}

/** What `ensure` found: the records are complete now, or another process is completing them. */
export type ReconcileState = 'reconciled' | 'elsewhere';

export interface Reconciler {
  /**
   * Makes sure the campaign's records hold every action it already has at the API before any
   * of its devices is called. Throws what the list call threw (a DefenderError: throttled etc.).
   */
  ensure(campaignId: string): Promise<ReconcileState>;
}

/** Devices recorded per Redis round trip burst. */
const RECORD_BATCH = 50;

/**
 * The batched reconcile pass (issue 9, defect 3): a campaign whose records may be incomplete (a
 * `scan --campaign-id` re-run, a Redis restart or AOF rollback, a detected store loss) fetches
 * its existing scan actions in ONE filtered, paged List MachineActions pass (type + creation
 * time since the campaign began, read from its id when the record is gone), matches them by the
 * exact trailing tag, and records them (device → action). Those devices are never called again;
 * until the pass is done no device of the campaign is called (transition-3.lua refuses `sent`).
 * The list calls go through the tenant client's machineActions budget.
 */
export function createReconciler(deps: ReconcileDeps): Reconciler {
  const inProcess = new Map<string, Promise<ReconcileState>>();

  const pass = async (campaign: Campaign, generation: number) => {
    const idTime = campaignCreatedAt(campaign.id, deps.clock.now());
    const since = Math.min(campaign.createdAt || Infinity, idTime ?? Infinity);
    const own = await listOwnActions(deps.clientFor(campaign.tenant), {
      campaignId: campaign.id,
      since: Number.isFinite(since) ? since : 0,
    });
    const ids = [...own.keys()];
    // Devices whose record was lost with the store get one, so a re-run adds them as done.
    await deps.store.addDevices(campaign.id, ids);
    const at = deps.clock.now();
    for (let i = 0; i < ids.length; i += RECORD_BATCH) {
      await Promise.all(
        ids.slice(i, i + RECORD_BATCH).flatMap((machineId) => {
          const action = own.get(machineId);
          return action
            ? [
                deps.store.markRequested(campaign.id, machineId, action, {
                  joinedExisting: false,
                  at,
                }),
              ]
            : [];
        }),
      );
    }
    const cleared = await deps.store.finishReconcile(campaign.id, generation);
    deps.log.warn(
      { campaignId: campaign.id, actionsFound: ids.length, since, cleared },
      'reconciled the campaign with its actions at the API before calling again',
    );
  };

  const run = async (campaignId: string): Promise<ReconcileState> => {
    const campaign = await deps.store.getCampaign(campaignId);
    const generation = campaign?.reconcile ?? 0;
    if (!campaign || generation === 0) return 'reconciled';
    const lock = createRetentionLock(
      deps.redis,
      `${deps.prefix}:lock:reconcile:${campaignId}`,
      deps.lockMs ?? 120_000,
    );
    if (!(await lock.take())) return 'elsewhere';
    try {
      await pass(campaign, generation);
    } finally {
      await lock.drop().catch(() => undefined);
    }
    return 'reconciled';
  };

  return {
    ensure(campaignId) {
      let running = inProcess.get(campaignId);
      if (!running) {
        running = run(campaignId).finally(() => inProcess.delete(campaignId));
        inProcess.set(campaignId, running);
      }
      return running;
    },
  };
}
