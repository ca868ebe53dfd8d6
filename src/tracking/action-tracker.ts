import type { Campaign } from '../campaigns/campaign.js';
import type { CampaignStore } from '../campaigns/campaign-store.js';
import type { MachineAction } from '../defender/machine-action.js';
import { scanActionsFilter, type MachineActionLister } from './find-own-action.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { campaignIdOfComment } from './action-tag.js';
import { FencedOutError, type LifecycleStore, type StatusUpdate } from './lifecycle-store.js';
import type { FencedLock } from './tracker-lock.js';
import { isSettled, isTerminalStatus, trackingVerdict } from './tracking-plan.js';

export interface TrackerSettings {
  /** `tracking.interval`. */
  intervalMs: number;
  /** `tracking.horizon`. */
  horizonMs: number;
  /** `tracking.requestor`: added to the filter when set. */
  requestor?: string | undefined;
  /** Renew the lock after this many listed actions (roughly a page) and before every write. */
  renewEvery?: number;
}

export interface ActionTrackerDeps {
  /** The tenant whose campaigns this tracker follows; `lister` must be that tenant's client. */
  tenant: string;
  store: Pick<CampaignStore, 'listCampaigns' | 'iterateDevices'>;
  lifecycle: Pick<LifecycleStore, 'get' | 'writeStatuses' | 'writeMeta'>;
  /** A client whose machineActions calls go through the tracker's share of the budget. */
  lister: MachineActionLister;
  lock: FencedLock;
  clock: Clock;
  log: Logger;
  settings: TrackerSettings;
  /** Called once per campaign when it settles (automatic verify). */
  onSettled?: (campaignId: string) => Promise<void>;
}

export interface RoundResult {
  /** False when another process held the lock: this process did nothing. */
  ran: boolean;
  campaigns: number;
  listed: number;
  changed: number;
  settled: string[];
  ended: string[];
  /** True when the lock was lost mid-round and the round stopped without writing more. */
  fencedOut: boolean;
  startedAt: number;
  endedAt: number;
}

/** A round that has listed nothing yet (`ran` false: another process held the lock). */
function emptyRound(ran: boolean, startedAt: number, endedAt: number): RoundResult {
  return {
    ran,
    campaigns: 0,
    listed: 0,
    changed: 0,
    settled: [],
    ended: [],
    fencedOut: false,
    startedAt,
    endedAt,
  };
}

interface Tracked {
  campaignId: string;
  machineId: string;
  status: string | null;
  updatedAt: string | null;
  joined: boolean;
}

/**
 * The action tracker of one tenant: one listing pass per round for all of the tenant's open
 * campaigns together (type, created since the oldest open campaign, requestor when configured),
 * through that tenant's client, split by each action's exact trailing tag, matched to devices by
 * action id. Campaigns settle when every action is terminal and leave the round; at the horizon
 * they end with what stayed open recorded. Only the holder of the tenant's fenced lock runs a
 * round, and its writes check the fence.
 */
export function createActionTracker(deps: ActionTrackerDeps) {
  const { lock, clock, log, settings } = deps;
  const renewEvery = settings.renewEvery ?? 5_000;
  let held: string | null = null;

  async function indexDevices(campaigns: readonly Campaign[]) {
    const byAction = new Map<string, Tracked>();
    for (const campaign of campaigns) {
      for await (const d of deps.store.iterateDevices(campaign.id)) {
        if (d.state !== 'requested' || d.machineActionId === null) continue;
        byAction.set(d.machineActionId, {
          campaignId: campaign.id,
          machineId: d.machineId,
          status: d.actionStatus,
          updatedAt: d.actionUpdatedAt ?? null,
          joined: d.joinedExisting,
        });
      }
    }
    return byAction;
  }

  async function round(value: string, startedAt: number): Promise<RoundResult> {
    const held = { key: lock.key, value };
    const result = emptyRound(true, startedAt, startedAt);
    const open: Campaign[] = [];
    const horizon: Campaign[] = [];
    for (const campaign of await deps.store.listCampaigns()) {
      if (campaign.tenant !== deps.tenant) continue;
      const verdict = trackingVerdict(
        campaign,
        await deps.lifecycle.get(campaign.id),
        clock.now(),
        settings.horizonMs,
      );
      if (verdict === 'track') open.push(campaign);
      else if (verdict === 'horizon') horizon.push(campaign);
    }
    result.campaigns = open.length;
    for (const campaign of horizon) {
      let stillOpen = 0;
      for (const t of (await indexDevices([campaign])).values()) {
        if (!isTerminalStatus(t.status)) stillOpen += 1;
      }
      await deps.lifecycle.writeMeta(
        campaign.id,
        { trackingEndedAt: clock.now(), openAtEnd: stillOpen },
        held,
      );
      result.ended.push(campaign.id);
      log.info({ campaignId: campaign.id, stillOpen }, 'tracking horizon reached');
    }
    if (open.length === 0) return result;

    const byAction = await indexDevices(open);
    if (!(await lock.renew(value))) throw new FencedOutError('Tracker lock lost while indexing');
    const since = Math.min(...open.map((c) => c.createdAt));
    const filter = {
      ...scanActionsFilter(since),
      ...(settings.requestor ? { requestor: settings.requestor } : {}),
    };
    const updates = new Map<string, StatusUpdate[]>();
    for await (const action of deps.lister.listMachineActions(filter)) {
      result.listed += 1;
      if (result.listed % renewEvery === 0 && !(await lock.renew(value))) {
        throw new FencedOutError('Tracker lock lost while listing');
      }
      const update = match(action, byAction);
      if (!update) continue;
      const list = updates.get(update.campaignId) ?? [];
      list.push(update.update);
      updates.set(update.campaignId, list);
    }
    for (const [campaignId, list] of updates) {
      if (!(await lock.renew(value))) throw new FencedOutError('Tracker lock lost before writing');
      result.changed += await deps.lifecycle.writeStatuses(campaignId, list, held);
    }
    const openActions = new Map<string, number>();
    for (const t of byAction.values()) {
      // With a requestor filter, someone else's actions (joined) are not listed: not ours to wait for.
      if (settings.requestor && t.joined) continue;
      if (!isTerminalStatus(t.status))
        openActions.set(t.campaignId, (openActions.get(t.campaignId) ?? 0) + 1);
    }
    const now = clock.now();
    for (const campaign of open) {
      const settled = isSettled(campaign, openActions.get(campaign.id) ?? 0);
      await deps.lifecycle.writeMeta(
        campaign.id,
        settled ? { lastTrackedAt: now, settledAt: now } : { lastTrackedAt: now },
        held,
      );
      if (settled) result.settled.push(campaign.id);
    }
    return result;
  }

  return {
    /** One round if this process gets the lock; never throws for a lost lock (says so instead). */
    async runRound(): Promise<RoundResult> {
      const startedAt = clock.now();
      const value = await lock.acquire();
      held = value;
      if (value === null) return emptyRound(false, startedAt, clock.now());
      let result: RoundResult;
      try {
        result = await round(value, startedAt);
      } catch (error) {
        if (!(error instanceof FencedOutError)) throw error;
        log.warn({ reason: error.message }, 'tracker round stopped: lock taken over');
        result = {
          ran: true,
          campaigns: 0,
          listed: 0,
          changed: 0,
          settled: [],
          ended: [],
          fencedOut: true,
          startedAt,
          endedAt: clock.now(),
        };
        return result;
      }
      result.endedAt = clock.now();
      for (const campaignId of result.settled) {
        log.info({ campaignId }, 'campaign settled: every action is terminal');
        await deps.onSettled?.(campaignId).catch((error: unknown) => {
          log.warn({ campaignId, reason: String(error) }, 'after-settle step failed');
        });
      }
      return result;
    },
    /** Frees the lock for another process, if this one holds it. */
    async release(): Promise<void> {
      if (held !== null) await lock.release(held);
      held = null;
    },
  };

  /** The device update an action brings, if it is one of ours (or a joined one) and changed. */
  function match(
    action: MachineAction,
    byAction: Map<string, Tracked>,
  ): { campaignId: string; update: StatusUpdate } | null {
    const tracked = byAction.get(action.id);
    if (!tracked) return null;
    const tag = campaignIdOfComment(action.requestorComment);
    // Our own action must carry this campaign's exact tag; a joined one is someone else's.
    if (tag === null ? !tracked.joined : tag !== tracked.campaignId) return null;
    const updatedAt = action.lastUpdateDateTimeUtc ?? '';
    if (tracked.status === action.status && (updatedAt === '' || tracked.updatedAt === updatedAt))
      return null;
    tracked.status = action.status;
    tracked.updatedAt = updatedAt || tracked.updatedAt;
    return {
      campaignId: tracked.campaignId,
      update: {
        machineId: tracked.machineId,
        actionId: action.id,
        status: action.status,
        updatedAt,
      },
    };
  }
}

export type ActionTracker = ReturnType<typeof createActionTracker>;
