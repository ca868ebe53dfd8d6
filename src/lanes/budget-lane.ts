import type { Redis } from '../shared/redis.js';
import { PRIORITIES, type Priority } from '../campaigns/campaign.js';
import type { RateWindow } from '../config/duration.js';
import type { ScanLimiter, ScanPermit } from '../limiter/scan-limiter.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { luaScript } from '../lua/lua-scripts.js';
import { createBudgetBreaker, type BreakerSettings, type BudgetBreaker } from './budget-breaker.js';
import { laneKeys, laneMember, wakeChannel, type LaneKeys } from './lane-keys.js';
import { reserveFor } from '../config/reserve.js';

/** A device handed to this process with the slot its call may spend. */
export interface LaneGrant {
  campaignId: string;
  machineId: string;
  /** Failed attempts before this turn (5xx, network errors, processes that died holding it). */
  tries: number;
  permit: ScanPermit;
  /** The one turn a blocked budget grants: its outcome decides whether the block ends. */
  probe: boolean;
  /**
   * The slot opens at this `performance.now()` moment (a lookahead grant): the turn may read and
   * mark the device before, but must not call before. Absent: open at once.
   */
  notBefore?: number;
}

/** `waitMs` -1: nothing waits in this budget at all (until new work wakes the dispatchers). */
export type DispatchResult =
  /** `grant` is `grants[0]`: one step may grant several slots (up to the places asked for). */
  | { grant: LaneGrant; grants: LaneGrant[]; waitMs?: undefined }
  | { grant?: undefined; grants?: undefined; waitMs: number };

/** How a dispatched device's turn ended. */
export type LaneEnd =
  | { kind: 'done' }
  /** Due again at `at` (busy, backoff); `attempt`: the turn spent one of `scan.attempts`. */
  | { kind: 'due'; at: number; attempt: boolean }
  /** Back at the front of its campaign's line (the budget or the campaign is paused). */
  | { kind: 'hold' };

export interface LaneDevice {
  machineId: string;
  /** When a deferred device is due (ms); absent or 0: ready now. */
  dueAt?: number | null | undefined;
}

export interface LaneStats {
  /** Campaigns with ready devices, per class. */
  campaigns: Record<Priority, number>;
  /** Devices waiting for a due time (busy, backoff). */
  due: number;
  /** Devices a worker process is working on now. */
  active: number;
}

/** One budget's line of waiting devices, with dispatch that grants a slot and picks a device. */
export interface BudgetLane {
  readonly budgetId: string;
  /** The budget's Redis Cluster hash tag: also the wake message naming it. */
  readonly tag: string;
  readonly keys: LaneKeys;
  /** Calls per window kept for urgent campaigns, in the order of `windows`. */
  readonly reserve: readonly number[];
  readonly windows: readonly RateWindow[];
  readonly limiter: ScanLimiter;
  /** How long a dispatched device stays with a process that stopped renewing it. */
  readonly deviceLeaseMs: number;
  /** The budget's tenant-wide fault breaker (shared by every process). */
  readonly breaker: BudgetBreaker;
  /**
   * One grant step; `most` (default 1): the most slots to grant at once (free places);
   * `lookaheadMs` (default 0): also grant slots that open within this much (see `notBefore`).
   */
  dispatch(most?: number, lookaheadMs?: number): Promise<DispatchResult>;
  push(
    campaign: { id: string; priority: Priority; paused: boolean },
    devices: readonly LaneDevice[],
  ): Promise<number>;
  finish(campaignId: string, machineId: string, end: LaneEnd): Promise<boolean>;
  /** `run` (also: change class), `pause`, or `drop` (cancelled). `priority` undefined keeps it. */
  setCampaign(campaignId: string, op: 'run' | 'pause' | 'drop', priority?: Priority): Promise<void>;
  /** Extends the lease of devices this process works on (a live process keeps them). */
  renew(members: readonly string[]): Promise<void>;
  stats(): Promise<LaneStats>;
}

export interface BudgetLaneOptions {
  redis: Redis;
  /** The deployment's prefix (`redis.prefix`); the budget keys come from the limiter. */
  prefix: string;
  budgetId: string;
  limiter: ScanLimiter;
  /** `limits.reserve`. */
  reserve: readonly RateWindow[];
  /** How long a device stays with a process that stopped renewing it (`worker.lockDuration`). */
  deviceLeaseMs: number;
  /** `limits.breaker`; default 5 s first probe, 5 min longest. */
  breaker?: BreakerSettings | undefined;
  /** The clock the turns' due times (`LaneEnd.at`) are on; the system clock by default. */
  clock?: Pick<Clock, 'now'> | undefined;
}

const DEFAULT_BREAKER: BreakerSettings = { probeMinMs: 5_000, probeMaxMs: 300_000 };

/** Chunk of devices per lane-push-7.lua call: short scripts keep Redis responsive. */
const PUSH_BATCH = 1_000;

export function createBudgetLane(options: BudgetLaneOptions): BudgetLane {
  const { redis, limiter } = options;
  const slots = limiter.slotsOf('scan');
  const keys = laneKeys(options.prefix, slots.keys.tag);
  const reserve = reserveFor(slots.windows, options.reserve);
  const channel = wakeChannel(options.prefix);
  const tag = slots.keys.tag;
  const breaker = createBudgetBreaker({
    redis,
    key: keys.breaker,
    channel,
    tag,
    nowArg: () => slots.nowArg(),
    settings: options.breaker ?? DEFAULT_BREAKER,
  });
  const windowArgs = slots.windows.flatMap((w, i) => [
    w.cap,
    w.windowMs,
    reserve[i] ?? 0,
    slots.probeFloors[i] ?? 0,
  ]);
  const dispatchKeys = [
    slots.keys.pause,
    slots.keys.inflight,
    slots.keys.caps,
    keys.due,
    keys.active,
    ...keys.roundRobin,
    keys.campaigns,
    keys.tries,
    slots.keys.good,
    keys.breaker,
    ...slots.keys.windows,
  ];
  // With Redis TIME, a due time goes as a delay: this host's clock may not be the others'.
  const clock = options.clock ?? systemClock;
  const relativeDue = slots.nowArg() === '';
  const dueArg = (end: LaneEnd): number => {
    if (end.kind !== 'due') return 0;
    return relativeDue ? Math.max(0, Math.round(end.at - clock.now())) : Math.round(end.at);
  };
  const classKeys = (campaignId: string) => [
    keys.campaigns,
    keys.due,
    keys.active,
    ...keys.roundRobin,
    keys.readyPrefix + campaignId,
  ];

  return {
    budgetId: options.budgetId,
    tag,
    keys,
    reserve,
    windows: slots.windows,
    limiter,
    deviceLeaseMs: options.deviceLeaseMs,
    breaker,
    async dispatch(most = 1, lookaheadMs = 0) {
      const idPrefix = `${slots.newPermitId()}.`;
      const reply = (await luaScript('dispatch-n').run(redis, dispatchKeys, [
        slots.nowArg(),
        slots.guardMs,
        slots.leaseMs,
        options.deviceLeaseMs,
        idPrefix,
        keys.readyPrefix,
        Math.max(1, Math.floor(most)),
        ...slots.adaptiveArgs,
        Math.max(0, Math.floor(lookaheadMs)),
        ...windowArgs,
      ])) as (string | number)[];
      // 1: granted; 2: the probe turn of a blocked budget; 0: nothing may go now.
      if (reply[0] !== 1 && reply[0] !== 2) return { waitMs: Number(reply[1]) };
      const probe = reply[0] === 2;
      // Waits count from the reply's arrival: later than Redis's now, so never early.
      const receivedAt = performance.now();
      const grantedAt = Number(reply[1]);
      const grants: LaneGrant[] = [];
      for (let i = 2; i + 3 < reply.length; i += 4) {
        const waitMs = Number(reply[i + 3]);
        grants.push({
          campaignId: String(reply[i]),
          machineId: String(reply[i + 1]),
          tries: Number(reply[i + 2]),
          permit: slots.permit(`${idPrefix}${grants.length + 1}`, grantedAt),
          probe,
          ...(waitMs > 0 ? { notBefore: receivedAt + waitMs } : {}),
        });
      }
      const [grant] = grants;
      if (!grant) throw new Error('dispatch-n granted no slot in a grant reply');
      return { grant, grants };
    },
    async push(campaign, devices) {
      let pushed = 0;
      for (let i = 0; i < devices.length; i += PUSH_BATCH) {
        const args = devices
          .slice(i, i + PUSH_BATCH)
          .flatMap((d) => [d.machineId, d.dueAt && d.dueAt > 0 ? d.dueAt : 0]);
        pushed += Number(
          await luaScript('lane-push-7').run(redis, classKeys(campaign.id), [
            campaign.id,
            campaign.priority,
            campaign.paused ? '1' : '0',
            channel,
            tag,
            ...args,
          ]),
        );
      }
      return pushed;
    },
    async finish(campaignId, machineId, end) {
      const reply = await luaScript('lane-finish-8').run(
        redis,
        [
          keys.campaigns,
          keys.due,
          keys.active,
          keys.tries,
          ...keys.roundRobin,
          keys.readyPrefix + campaignId,
        ],
        [
          campaignId,
          machineId,
          end.kind,
          dueArg(end),
          end.kind === 'due' && end.attempt ? '1' : '0',
          relativeDue ? 'in' : '',
        ],
      );
      return reply === 1;
    },
    async setCampaign(campaignId, op, priority) {
      await luaScript('lane-campaign-5').run(
        redis,
        [keys.campaigns, ...keys.roundRobin, keys.readyPrefix + campaignId],
        [campaignId, op, priority ?? '', channel, tag],
      );
    },
    async renew(members) {
      if (members.length === 0) return;
      await luaScript('lane-renew-1').run(
        redis,
        [keys.active],
        [slots.nowArg(), options.deviceLeaseMs, ...members],
      );
    },
    async stats() {
      const pipeline = redis.pipeline();
      for (const key of keys.roundRobin) pipeline.zcard(key);
      pipeline.zcard(keys.due);
      pipeline.zcard(keys.active);
      const replies = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n ?? 0));
      return {
        campaigns: Object.fromEntries(PRIORITIES.map((p, i) => [p, replies[i] ?? 0])) as Record<
          Priority,
          number
        >,
        due: replies[3] ?? 0,
        active: replies[4] ?? 0,
      };
    },
  };
}

export { laneMember };
