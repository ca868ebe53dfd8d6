import type { Redis } from '../shared/redis.js';
import type { Campaign, CampaignMeta, CampaignState, DeviceRecord, Priority } from './campaign.js';
import type { CampaignStore } from './campaign-store.js';
import { decodeCampaign, encodeCampaignMeta } from './campaign-codec.js';
import { campaignIndexKey, campaignKeys } from './campaign-keys.js';
import { decodeDevice } from './device-codec.js';
import { attachHostnames, saveHostnames, withHostnames } from './device-hostnames.js';
import { iterateDevices, listDevices } from './device-scan.js';
import { ReconcilePendingError, UnknownCampaignError, UnknownDeviceError } from './errors.js';
import { luaScript } from '../lua/lua-scripts.js';
import { watchServerRun, type ServerRun } from './server-run.js';

const createScript = luaScript('create-campaign-1');
const transitionScript = luaScript('transition-3');
const addDevicesScript = luaScript('add-devices-3');
const setStateScript = luaScript('set-state-2');
const cancelDevicesScript = luaScript('cancel-devices-2');
const cancelSweepScript = luaScript('cancel-sweep-2');
const updateStatusesScript = luaScript('update-statuses-1');

/**
 * How long an intake stays open without renewal: a `scan` renews it while it adds devices, so
 * only one whose process died runs out (and the campaign can finish a minute later).
 */
export const INTAKE_LEASE_MS = 60_000;
const DEFAULT_INTAKE = 'default';

/** Ids per script call: long enough to be cheap, short enough never to block Redis for long. */
const SCRIPT_BATCH = 1_000;

export interface StateChange {
  previous: CampaignState;
  state: CampaignState;
}

/**
 * `CampaignStore` plus what enqueue and the cancel/pause/resume commands need. Kept out of the
 * contract interface so that other implementations (test fakes) need not grow with it.
 */
export interface RedisCampaignStore extends CampaignStore {
  /** Like `addDevices`, but says which ids were new and which (new or not) still need a job. */
  addDevicesDetailed(
    campaignId: string,
    machineIds: readonly string[],
  ): Promise<{ added: string[]; waiting: string[] }>;
  /** Moves the campaign along the allowed states (`lua/set-state-2.lua`); null when unknown. */
  changeCampaignState(campaignId: string, state: CampaignState): Promise<StateChange | null>;
  /**
   * Opens one intake (`intake` names it: a random id per `scan` run; without one, the shared
   * intake `default`, opened once however often). While any intake of
   * the campaign is open it cannot finish (devices are still being added); each lasts
   * `INTAKE_LEASE_MS` unless renewed, so one left by a process that died ends by itself.
   */
  openIntake(campaignId: string, intake?: string): Promise<StateChange | null>;
  /** Extends a live intake's lease by `INTAKE_LEASE_MS` from now. */
  renewIntake(campaignId: string, intake?: string): Promise<void>;
  /** Closes one intake; the campaign finishes when it was the last and nothing waits. */
  closeIntake(campaignId: string, intake?: string): Promise<StateChange | null>;
  /** Changes a campaign's dispatch class; false when the campaign is unknown. */
  setPriority(campaignId: string, priority: Priority): Promise<boolean>;
  /** Cancels those of the ids that are queued or deferred; returns the ones that moved. */
  cancelWaitingDevices(campaignId: string, machineIds: readonly string[]): Promise<string[]>;
  /**
   * Cancels every queued or deferred device, one HSCAN page per Lua call (linear, nothing sent
   * back and forth); returns how many moved.
   */
  cancelAllWaiting(campaignId: string): Promise<number>;
  /** Keeps the devices' host names (machineId → name) for export, status and the dashboard. */
  setHostnames(campaignId: string, names: ReadonlyMap<string, string>): Promise<void>;
  /**
   * Creates the campaign, or asks an existing one to reconcile: its records may be incomplete,
   * so no device is called until its actions were looked up. True when it was created.
   */
  createForReconcile(meta: CampaignMeta): Promise<boolean>;
  /** Asks for a reconcile pass (re-run, detected loss); false when the campaign is unknown. */
  requestReconcile(campaignId: string): Promise<boolean>;
  /** Ends the reconcile request of that generation (a newer request stays). */
  finishReconcile(campaignId: string, generation: number): Promise<boolean>;
}

/**
 * The Redis campaign store: keys in `campaign-keys.ts`, every transition one Lua call.
 * `serverRun`: which server `markSent` says it talks to (tests); `watchServerRun(redis)` by default.
 */
export function createCampaignStore(
  redis: Redis,
  prefix: string,
  options: { serverRun?: ServerRun } = {},
): RedisCampaignStore {
  const keysOf = (id: string) => campaignKeys(prefix, id);
  const serverRun = options.serverRun ?? watchServerRun(redis);

  const transition = async (
    campaignId: string,
    machineId: string,
    args: readonly (string | number)[],
  ): Promise<DeviceRecord> => {
    const k = keysOf(campaignId);
    let json: unknown;
    try {
      json = await transitionScript.run(
        redis,
        [k.campaign, k.devices, k.counts],
        [machineId, ...args],
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('RECONCILE')) {
        throw new ReconcilePendingError(campaignId);
      }
      if (error instanceof Error && error.message.startsWith('UNKNOWN_CAMPAIGN')) {
        throw new UnknownCampaignError(campaignId);
      }
      throw error;
    }
    if (typeof json !== 'string') throw new UnknownDeviceError(campaignId, machineId);
    return decodeDevice(machineId, json);
  };

  /** `sent`, with the server's run_id read once per connection (server-run.ts). */
  const markSent = async (
    campaignId: string,
    machineId: string,
    at: number,
    unlessMaybe: boolean,
  ) => {
    const { runId, generation } = serverRun.current();
    const device = await transition(campaignId, machineId, [
      'sent',
      at,
      runId,
      unlessMaybe ? '1' : '0',
    ]);
    // Perhaps re-sent to a restarted server with the old run_id: its records may be incomplete.
    if (runId !== '' && serverRun.changedSince(generation)) {
      throw new ReconcilePendingError(campaignId);
    }
    return device;
  };

  const setState = async (
    campaignId: string,
    target: string,
    intake: readonly (string | number)[] = [],
  ): Promise<StateChange | null> => {
    const k = keysOf(campaignId);
    const reply = await setStateScript.run(redis, [k.campaign, k.counts], [target, ...intake]);
    if (!Array.isArray(reply)) return null;
    const [previous, state] = reply as [CampaignState, CampaignState];
    return { previous, state };
  };

  const getCampaign = async (campaignId: string): Promise<Campaign | null> => {
    const k = keysOf(campaignId);
    const [fields, counts] = await Promise.all([
      redis.hgetall(k.campaign),
      redis.hgetall(k.counts),
    ]);
    return Object.keys(fields).length === 0 ? null : decodeCampaign(fields, counts);
  };

  const addDevicesDetailed = async (campaignId: string, machineIds: readonly string[]) => {
    const k = keysOf(campaignId);
    const added: string[] = [];
    const waiting: string[] = [];
    for (let i = 0; i < machineIds.length; i += SCRIPT_BATCH) {
      const batch = machineIds.slice(i, i + SCRIPT_BATCH);
      let reply: unknown;
      try {
        reply = await addDevicesScript.run(redis, [k.campaign, k.devices, k.counts], batch);
      } catch (error) {
        if (error instanceof Error && error.message.includes('unknown campaign')) {
          throw new UnknownCampaignError(campaignId);
        }
        throw error;
      }
      const [newIds, waitingIds] = reply as [string[], string[]];
      added.push(...newIds);
      waiting.push(...waitingIds);
    }
    return { added, waiting };
  };

  const create = async (meta: CampaignMeta, reconcile: boolean) => {
    // Index first, then the campaign (create-campaign-1.lua says why they are two steps).
    await redis.zadd(campaignIndexKey(prefix), 'NX', meta.createdAt, meta.id);
    const args = [meta.createdAt, reconcile ? '1' : '0', ...encodeCampaignMeta(meta)];
    return (await createScript.run(redis, [keysOf(meta.id).campaign], args)) === 1;
  };
  const requestReconcile = async (campaignId: string) =>
    (await luaScript('campaign-reconcile-request-1').run(
      redis,
      [keysOf(campaignId).campaign],
      [],
    )) === 1;

  return {
    /** A second create with the same id (a re-run) leaves the first one as it is. */
    async createCampaign(meta: CampaignMeta) {
      await create(meta, false);
    },
    async createForReconcile(meta) {
      if (await create(meta, true)) return true;
      await requestReconcile(meta.id);
      return false;
    },
    requestReconcile,
    async finishReconcile(campaignId, generation) {
      const done = await luaScript('campaign-reconcile-done-1').run(
        redis,
        [keysOf(campaignId).campaign],
        [String(generation)],
      );
      return done === 1;
    },
    async addDevices(campaignId, machineIds) {
      return (await addDevicesDetailed(campaignId, machineIds)).added.length;
    },
    addDevicesDetailed,
    getCampaign,
    async listCampaigns() {
      const ids = await redis.zrevrange(campaignIndexKey(prefix), 0, -1);
      const campaigns = await Promise.all(ids.map(getCampaign));
      return campaigns.filter((c): c is Campaign => c !== null);
    },
    async setCampaignState(campaignId, state) {
      if ((await setState(campaignId, state)) === null) throw new UnknownCampaignError(campaignId);
    },
    changeCampaignState: (campaignId, state) => setState(campaignId, state),
    openIntake: (campaignId, intake = DEFAULT_INTAKE) =>
      setState(campaignId, 'open-intake', [intake, INTAKE_LEASE_MS]),
    async renewIntake(campaignId, intake = DEFAULT_INTAKE) {
      await setState(campaignId, 'renew-intake', [intake, INTAKE_LEASE_MS]);
    },
    closeIntake: (campaignId, intake = DEFAULT_INTAKE) =>
      setState(campaignId, 'close-intake', [intake]),

    async getDevice(campaignId, machineId) {
      const json = await redis.hget(keysOf(campaignId).devices, machineId);
      return json === null ? null : decodeDevice(machineId, json);
    },
    async listDevices(campaignId, options) {
      const k = keysOf(campaignId);
      const page = await listDevices(redis, k.devices, options);
      await attachHostnames(redis, k.hostnames, page.devices);
      return page;
    },
    iterateDevices: (campaignId) =>
      withHostnames(
        redis,
        keysOf(campaignId).hostnames,
        iterateDevices(redis, keysOf(campaignId).devices),
      ),
    setHostnames: (campaignId, names) => saveHostnames(redis, keysOf(campaignId).hostnames, names),

    markSent: (campaignId, machineId, at) => markSent(campaignId, machineId, at, false),
    async markSentUnlessMaybeSent(campaignId, machineId, at) {
      try {
        return await markSent(campaignId, machineId, at, true);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('MAYBE_SENT')) return null;
        throw error;
      }
    },
    markAnswered: (campaignId, machineId) => transition(campaignId, machineId, ['answered']),
    markRequested: (campaignId, machineId, action, details) =>
      transition(campaignId, machineId, [
        'requested',
        action.id,
        action.status,
        action.creationDateTimeUtc,
        details.joinedExisting ? '1' : '0',
        details.at,
      ]),
    markDeferred: (campaignId, machineId, details) =>
      transition(campaignId, machineId, ['deferred', details.until, details.at]),
    markQueued: (campaignId, machineId) => transition(campaignId, machineId, ['queued']),
    markFailed: (campaignId, machineId, reason) =>
      transition(campaignId, machineId, ['failed', reason]),
    markCancelled: (campaignId, machineId) => transition(campaignId, machineId, ['cancelled']),

    async setPriority(campaignId, priority) {
      const key = keysOf(campaignId).campaign;
      const done = await luaScript('campaign-priority-1').run(redis, [key], [priority]);
      return done === 1;
    },
    async cancelWaitingDevices(campaignId, machineIds) {
      const k = keysOf(campaignId);
      const moved: string[] = [];
      for (let i = 0; i < machineIds.length; i += SCRIPT_BATCH) {
        const batch = machineIds.slice(i, i + SCRIPT_BATCH);
        moved.push(
          ...((await cancelDevicesScript.run(redis, [k.devices, k.counts], batch)) as string[]),
        );
      }
      return moved;
    },
    async cancelAllWaiting(campaignId) {
      const k = keysOf(campaignId);
      let cursor = '0';
      let moved = 0;
      do {
        const [next, count] = (await cancelSweepScript.run(
          redis,
          [k.devices, k.counts],
          [cursor, SCRIPT_BATCH],
        )) as [string, number];
        cursor = next;
        moved += count;
      } while (cursor !== '0');
      return moved;
    },
    async updateActionStatuses(campaignId, actions) {
      let changed = 0;
      for (let i = 0; i < actions.length; i += SCRIPT_BATCH) {
        const args = actions
          .slice(i, i + SCRIPT_BATCH)
          .flatMap((a) => [a.machineId, a.id, a.status]);
        changed += Number(
          await updateStatusesScript.run(redis, [keysOf(campaignId).devices], args),
        );
      }
      return changed;
    },
  };
}
