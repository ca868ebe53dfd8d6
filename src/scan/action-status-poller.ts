import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { Campaign } from '../campaigns/campaign.js';
import type { Logger } from '../shared/logger.js';
import { isOwnAction, scanActionsFilter, type MachineActionLister } from './find-own-action.js';

export interface ActionStatusPollerDeps {
  redis: Redis;
  prefix: string;
  store: Pick<CampaignStore, 'listCampaigns' | 'updateActionStatuses'>;
  client?: MachineActionLister;
  /** The client of a campaign's tenant; `client` for every campaign when absent. */
  clientFor?: (tenant: string) => MachineActionLister;
  log: Logger;
  /** `scan.actionPoll`. */
  intervalMs: number;
  /** Finished campaigns keep being refreshed this long, while their actions settle. Default 24 h. */
  settleMs?: number;
  now?: () => number;
}

/** Takes or renews the lock only while it is free or already ours. */
const TAKE_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
const DROP_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Refreshes `actionStatus` of the campaigns' recorded actions, one filtered List MachineActions
 * call per campaign every `intervalMs`. Every worker runs one, but a Redis lock that expires after
 * two intervals lets only one process poll at a time (a killed holder is replaced by the next tick
 * of another), so the calls cost the same whether there are 2 workers or 200.
 */
export function startActionStatusPoller(deps: ActionStatusPollerDeps) {
  const owner = randomUUID();
  const lockKey = `${deps.prefix}:lock:action-poll`;
  const now = deps.now ?? Date.now;
  let stopped = false;
  let running: Promise<number> | null = null;

  const due = (campaign: Campaign) =>
    campaign.state === 'running' ||
    (campaign.state === 'finished' &&
      (campaign.finishedAt ?? 0) > now() - (deps.settleMs ?? 86_400_000));

  /** One round, if this process holds the lock; returns how many devices changed. */
  async function pollOnce(): Promise<number> {
    const held = await deps.redis.eval(TAKE_LOCK, 1, lockKey, owner, String(deps.intervalMs * 2));
    if (held !== 1) return 0;
    let changed = 0;
    for (const campaign of await deps.store.listCampaigns()) {
      if (stopped || !due(campaign)) continue;
      const actions = [];
      let client: MachineActionLister | undefined;
      try {
        client = deps.clientFor ? deps.clientFor(campaign.tenant) : deps.client;
      } catch (error) {
        // A tenant no longer configured: its campaigns are left as they are, the rest go on.
        deps.log.warn({ campaignId: campaign.id, reason: String(error) }, 'no client for tenant');
      }
      if (!client) continue;
      for await (const action of client.listMachineActions(scanActionsFilter(campaign.createdAt))) {
        if (isOwnAction(action, campaign.id)) {
          actions.push({
            id: action.id,
            machineId: action.machineId.toLowerCase(),
            status: action.status,
          });
        }
      }
      if (actions.length > 0)
        changed += await deps.store.updateActionStatuses(campaign.id, actions);
    }
    if (changed > 0) deps.log.debug({ changed }, 'action statuses refreshed');
    return changed;
  }

  const tick = () => {
    if (stopped || running) return;
    running = pollOnce()
      .catch((error: unknown) => {
        deps.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'action status poll failed',
        );
        return 0;
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();

  return {
    pollOnce,
    /** Stops polling, waits for a round in flight, and frees the lock for another process. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
      await deps.redis.eval(DROP_LOCK, 1, lockKey, owner).catch(() => undefined);
    },
  };
}

export type ActionStatusPoller = ReturnType<typeof startActionStatusPoller>;
