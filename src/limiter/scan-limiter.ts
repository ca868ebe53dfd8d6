import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RateWindow } from '../config/duration.js';
import type { CallGate, CallPermit } from '../defender/call-gate.js';
import { ENDPOINT_FAMILIES, type EndpointFamily } from '../defender/machine-action.js';
import { systemClock, type Clock } from '../shared/clock.js';
import {
  createAdaptiveBudget,
  type AdaptiveSettings,
  type AdaptiveSnapshot,
  type CallOutcome,
} from './adaptive/adaptive-budget.js';
import { normaliseWindows } from '../config/duration.js';
import { budgetKeys, type BudgetKeys } from './budget-keys.js';
import { luaScript, type LuaScriptName, type ScriptRedis } from '../lua/lua-scripts.js';
import { createPermit, type ScanPermit } from './permit.js';

export type { ScanPermit } from './permit.js';
export type { AdaptiveSettings, AdaptiveSnapshot } from './adaptive/adaptive-budget.js';
export { readAdaptiveState, type AdaptiveBudgetView } from './adaptive/adaptive-state.js';
export { budgetIdFor } from './budget-id.js';

/** Longest a slot may stay unsettled before it counts as replied at grant + lease. */
export const DEFAULT_LEASE_MS = 120_000;

export interface ScanLimiterOptions {
  redis: ScriptRedis;
  prefix: string;
  /** From `budgetIdFor(config)`; becomes a Redis Cluster hash tag, so no braces. */
  budgetId: string;
  windows: readonly RateWindow[];
  /** Added to every window, for latency that varies between calls. */
  guardMs: number;
  /** Pause used by `throttle()` when the 429 named no usable duration. */
  throttleDefaultMs: number;
  /** Longer than any call may hold a permit (token fetch + request timeout). */
  leaseMs?: number;
  /**
   * `family` (default): each endpoint family has its own budget. `shared`: every family spends
   * from one budget, for a tenant whose endpoints share their limits (mde-api.md: unknown).
   */
  budgetScope?: 'family' | 'shared';
  /** Sleeps of `acquire()`; and, with `time: 'clock'`, every timestamp. */
  clock?: Clock;
  /** `'redis'` (production): Redis TIME, one timeline for all hosts. `'clock'`: simulated time in tests. */
  time?: 'redis' | 'clock';
  log?: Logger;
  /**
   * Adaptive budget (issue 17, `limits.adaptive`): learn the real cap from 429s on granted
   * slots. Absent: the configured caps only, as before.
   */
  adaptive?: AdaptiveSettings | undefined;
  /**
   * A budget's tenant-wide fault breaker (src/lanes/budget-breaker.ts), which dispatch-n.lua
   * reads for scans: with it, `tryAcquire` grants nothing while that budget is blocked but the
   * probe, as the lanes do (the admission rule, issue 26). For callers outside the lanes only
   * (the tracker's look-ups): a device turn's own calls were admitted with its turn. Absent:
   * never blocked.
   */
  breaker?: BreakerLink | undefined;
}

/** Where a budget's breaker is, and where to wake the dispatchers when a probe clears it. */
export interface BreakerLink {
  /** The breaker hash (`laneKeys(prefix, tag).breaker`). */
  key: string;
  /** The lanes' wake-up channel (`wakeChannel(prefix)`). */
  channel: string;
  /** The budget's lane tag (its scan keys' hash tag): the message that wakes its lane. */
  tag: string;
}

export type TryAcquireResult =
  | { permit: ScanPermit; waitMs?: undefined }
  /** `blocked`: the budget's breaker refused (a tenant-wide fault), not its windows. */
  | { permit?: undefined; waitMs: number; blocked?: true };

export interface WindowUsage {
  /** The effective cap: the configured one, or lower where the adaptive budget learned it. */
  cap: number;
  /** The configured cap (`limits.windows`), when the adaptive budget is on. */
  configuredCap?: number;
  windowMs: number;
  /** Slots counted in this window now: stamped within windowMs + guard, plus those in flight. */
  used: number;
}

export interface BudgetUsage {
  family: EndpointFamily;
  windows: WindowUsage[];
  /** When the pause after a 429 ends (ms, limiter timeline), or null when not paused. */
  pausedUntil: number | null;
  /** Why the adaptive budget last lowered a cap; absent when it never did or is off. */
  lastDecrease?: { reason: string; at: number } | null;
}

export interface ScanLimiter extends CallGate {
  acquire(family: EndpointFamily, signal?: AbortSignal): Promise<ScanPermit>;
  /**
   * One Lua call; never waits. `waitMs`: until the pause ends and every window has room. Exact
   * when settled slots fill the window; slots still in flight count as if they settled now (the
   * earliest they can leave), so the caller may be told to wait again when it comes back.
   */
  tryAcquire(family: EndpointFamily): Promise<TryAcquireResult>;
  usage(family?: EndpointFamily): Promise<BudgetUsage[]>;
  /** Feeds a call's outcome to the adaptive budget (a no-op when it is off). */
  observe(family: EndpointFamily, permit: CallPermit, status: number): Promise<void>;
  /** Effective and configured caps and the last decrease, per family; [] when adaptive is off. */
  adaptiveState(family?: EndpointFamily): Promise<AdaptiveSnapshot[]>;
  /**
   * What a script that takes this budget's slots itself (the lane dispatcher) needs: the keys,
   * the windows and settings, a fresh permit id, and a permit for a slot that script granted.
   */
  slotsOf(family: EndpointFamily): BudgetSlots;
}

/** A family's budget as seen by a script that grants its slots (`src/lua/dispatch-n.lua`). */
export interface BudgetSlots {
  keys: BudgetKeys;
  /** Normalised: shortest first, in the order of `keys.windows`. */
  windows: readonly RateWindow[];
  guardMs: number;
  leaseMs: number;
  /** `nowMs` for the scripts, or '' to read Redis TIME. */
  nowArg(): number | '';
  newPermitId(): string;
  permit(id: string, grantedAt: number): ScanPermit;
  /** Adaptive on (1/0), probe limit, probe wait: as acquire-n.lua takes them. */
  adaptiveArgs: readonly number[];
  /**
   * Per window (same order), the level the probe limit takes as accepted before the server has
   * accepted anything: the adaptive floor, which the rule never lowers a cap below; 0 when off.
   */
  probeFloors: readonly number[];
}

/**
 * The shared sliding-log budget (docs/design.md "The limiter"): never more than a window's cap
 * in any span of that window's length, for every window at once, across every process sharing
 * the Redis. One Lua script checks all windows and the pause and takes the slot atomically.
 */
/** The key name of the one budget every family spends from with `budgetScope: 'shared'`. */
const SHARED_SCOPE = 'all';

export function createScanLimiter(options: ScanLimiterOptions): ScanLimiter {
  const { redis, prefix, budgetId, log } = options;
  const windows = normaliseWindows(options.windows);
  const guardMs = checkMs('guardMs', options.guardMs, 0);
  const leaseMs = checkMs('leaseMs', options.leaseMs ?? DEFAULT_LEASE_MS, 1);
  const throttleDefaultMs = checkMs('throttleDefaultMs', options.throttleDefaultMs, 1);
  const clock = options.clock ?? systemClock;
  if (/[{}]/.test(budgetId)) throw new RangeError('Expected `budgetId` without braces');

  const keysByFamily = new Map<EndpointFamily, BudgetKeys>();
  const keysOf = (family: EndpointFamily): BudgetKeys => {
    let keys = keysByFamily.get(family);
    if (!keys) {
      const scope = options.budgetScope === 'shared' ? SHARED_SCOPE : family;
      keys = budgetKeys(prefix, budgetId, scope, windows);
      keysByFamily.set(family, keys);
    }
    return keys;
  };
  // '' lets the script read Redis TIME: the one clock every host agrees on.
  const nowArg = (): number | '' => (options.time === 'clock' ? clock.now() : '');
  const run = (name: LuaScriptName, keys: string[], args: (string | number)[]) =>
    luaScript(name).run(redis, keys, args);

  // Unique member ids: a random tag per limiter plus a counter, short to keep the logs small.
  const tag = randomBytes(6).toString('base64url');
  let counter = 0;

  const adaptive =
    options.adaptive === undefined
      ? undefined
      : createAdaptiveBudget({
          windows,
          settings: options.adaptive,
          guardMs,
          run: (name, keys, args) => run(name, keys, args),
          nowArg,
          log,
        });
  // acquire-n.lua: adaptive on/off, probe limit, and the wait answered when only it refuses.
  const adaptiveArgs = adaptive
    ? [1, options.adaptive?.probeInflight ?? 1, Math.max(1, Math.min(guardMs, 20))]
    : [0, 0, 0];
  const probeFloors = windows.map((_, i) => (adaptive ? (adaptive.params.floors[i] ?? 0) : 0));

  const ends = {
    async settle(
      id: string,
      family: EndpointFamily,
      grantedAt: number,
      repliedMsAgo: number,
    ): Promise<number> {
      const keys = keysOf(family);
      const windowArgs = windows.map((window) => window.windowMs);
      const stamp = await run(
        'settle-n',
        [keys.inflight, ...keys.windows],
        [nowArg(), guardMs, id, replyAge(repliedMsAgo), ...windowArgs],
      );
      const settledAt = toInteger(stamp, 'settle-n');
      if (settledAt - grantedAt >= leaseMs) {
        // Counted as replied at grant + lease meanwhile, so the server may have seen one too many.
        log?.warn(
          { family, permit: id, heldMs: settledAt - grantedAt, leaseMs },
          'permit held past its lease: raise leaseMs',
        );
      }
      return settledAt;
    },
    async release(id: string, family: EndpointFamily): Promise<void> {
      const keys = keysOf(family);
      await run('release-n', [keys.inflight, ...keys.windows], [id]);
    },
  };

  // Permits granted as a blocked budget's probe: a reply through `observe` may unblock it.
  const probes = new WeakSet<CallPermit>();
  const breaker = options.breaker;
  /** breaker-admit-1.lua: {1} not blocked, {0, wait} blocked, {2, now} the probe is due. */
  const askBreaker = async (link: { key: string }, claimMs: number) => {
    const [state = 1, value = 0] = toIntegers(
      await run('breaker-admit-1', [link.key], [nowArg(), claimMs]),
      'breaker-admit-1',
    );
    return { state, value };
  };

  const grant = async (family: EndpointFamily): Promise<TryAcquireResult> => {
    const keys = keysOf(family);
    const id = `${tag}${(counter++).toString(36)}`;
    const windowArgs = windows.flatMap((window, i) => [
      window.cap,
      window.windowMs,
      probeFloors[i] ?? 0,
    ]);
    const reply = await run(
      'acquire-n',
      [keys.pause, keys.inflight, keys.caps, keys.good, ...keys.windows],
      [nowArg(), guardMs, leaseMs, id, ...adaptiveArgs, ...windowArgs],
    );
    const [granted, value] = toIntegers(reply, 'acquire-n');
    if (granted === 1) return { permit: createPermit(id, family, value ?? 0, ends, log) };
    return { waitMs: Math.max(1, value ?? 1) };
  };

  /**
   * The admission rule with its breaker part (includes/budget-admission.lua): a blocked budget
   * grants nothing before its probe time, then one probe, claimed for a slot lease whichever
   * family or process takes it. The breaker is asked first, in its own slot (breaker-admit-1).
   */
  const tryAcquire = async (family: EndpointFamily): Promise<TryAcquireResult> => {
    if (!breaker) return grant(family);
    const door = await askBreaker(breaker, 0);
    if (door.state === 0) return { waitMs: Math.max(1, door.value), blocked: true };
    const result = await grant(family);
    if (door.state === 1 || !result.permit) return result;
    // The probe was due: claim it, unless another caller (a lane, a process) did meanwhile.
    const claim = await askBreaker(breaker, leaseMs);
    if (claim.state === 0) {
      await result.permit.release();
      return { waitMs: Math.max(1, claim.value), blocked: true };
    }
    if (claim.state === 2) probes.add(result.permit);
    return result;
  };

  const acquire = async (family: EndpointFamily, signal?: AbortSignal): Promise<ScanPermit> => {
    let said = false;
    for (;;) {
      signal?.throwIfAborted();
      const result = await tryAcquire(family);
      if (result.permit) {
        if (signal?.aborted) {
          await result.permit.release(); // the caller gave up while we asked: the call never leaves
          signal.throwIfAborted();
        }
        return result.permit;
      }
      if (result.blocked && !said) {
        // Minutes, perhaps: said once, so a waiting command or round is not taken for a hang.
        said = true;
        log?.warn(
          { family, waitMs: result.waitMs },
          'budget blocked by a tenant-wide fault (see `fleetscan tenants`): waiting for its probe',
        );
      } else log?.debug({ family, waitMs: result.waitMs }, 'budget full, waiting');
      await clock.sleep(result.waitMs, signal);
    }
  };

  const throttle = async (family: EndpointFamily, ms: number): Promise<void> => {
    const pauseMs = Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : throttleDefaultMs;
    const untilMs = await run('throttle-1', [keysOf(family).pause], [nowArg(), pauseMs]);
    // With the adaptive budget on, a storm is logged once per change of the effective cap
    // (adaptive-budget.ts), not once per 429: each pause is only a debug line then.
    log?.[adaptive ? 'debug' : 'warn'](
      { family, pauseMs, pausedUntil: toInteger(untilMs, 'throttle-1') },
      'budget paused after 429',
    );
  };

  const usageOf = async (family: EndpointFamily): Promise<BudgetUsage> => {
    const keys = keysOf(family);
    const reply = await run(
      'usage-n',
      [keys.pause, keys.inflight, ...keys.windows],
      [nowArg(), guardMs, leaseMs, ...windows.map((window) => window.windowMs)],
    );
    const [, pausedUntil = 0, ...used] = toIntegers(reply, 'usage-n');
    const learned = adaptive ? await adaptive.snapshot(keys, family) : undefined;
    return {
      family,
      windows: windows.map((window, index) => ({
        ...window,
        used: used[index] ?? 0,
        ...(learned
          ? { cap: learned.windows[index]?.effectiveCap ?? window.cap, configuredCap: window.cap }
          : {}),
      })),
      pausedUntil: pausedUntil > 0 ? pausedUntil : null,
      ...(learned ? { lastDecrease: learned.lastDecrease } : {}),
    };
  };

  const observe = async (family: EndpointFamily, permit: CallPermit, status: number) => {
    if (breaker && probes.delete(permit) && acceptedByServer(status)) {
      // The probe's call was accepted: every family and lane of the budget resumes.
      const cleared = await run('breaker-clear-1', [breaker.key], [breaker.channel, breaker.tag]);
      if (Array.isArray(cleared) && cleared.length > 0) {
        log?.info({ family }, 'tenant unblocked: a probe call was accepted, dispatch resumes');
      }
    }
    const outcome = outcomeOf(permit, status);
    if (!adaptive || !outcome) return;
    await adaptive.observe(keysOf(family), family, outcome);
  };
  const slotsOf = (family: EndpointFamily): BudgetSlots => ({
    keys: keysOf(family),
    windows,
    guardMs,
    leaseMs,
    nowArg,
    newPermitId: () => `${tag}${(counter++).toString(36)}`,
    permit: (id, grantedAt) => createPermit(id, family, grantedAt, ends, log),
    adaptiveArgs,
    probeFloors,
  });

  return {
    acquire,
    tryAcquire,
    slotsOf,
    throttle,
    usage: (family) => Promise.all((family ? [family] : ENDPOINT_FAMILIES).map(usageOf)),
    observe,
    adaptiveState: async (family) =>
      adaptive
        ? Promise.all(
            (family ? [family] : ENDPOINT_FAMILIES).map((f) => adaptive.snapshot(keysOf(f), f)),
          )
        : [],
  };
}

/**
 * What a reply says about the budget: a 429 on a slot this limiter granted (its grant time
 * tells storms apart) lowers the cap; any other answer but 401 was counted and accepted by the
 * server's throttle, so the budget had room. Network failures say nothing.
 */
function outcomeOf(permit: unknown, status: number): CallOutcome | undefined {
  if (status === 429) {
    const grantedAt = (permit as { grantedAt?: unknown } | null)?.grantedAt;
    // The real 429 names no window (mde-api.md); the rule then picks the fullest ones.
    return typeof grantedAt === 'number'
      ? { kind: 'throttled', grantedAt, windowMs: null }
      : undefined;
  }
  return status >= 200 && status !== 401 ? { kind: 'ok' } : undefined;
}

/**
 * Whether a probe's reply shows the tenant's access works, as the lanes' verdict does
 * (src/tenants/tenant-fault.ts): the server took the request, whatever it said of the target.
 * A 401 (the credential), a 403 (it may name a missing permission), a 429 and a 5xx say nothing
 * of that: the claim then runs out and the next caller probes.
 */
function acceptedByServer(status: number): boolean {
  return status >= 200 && status < 500 && status !== 401 && status !== 403 && status !== 429;
}

/**
 * Whole ms, rounded down (a later stamp is the safe side), and never negative: a clock step or a
 * bad measure can only make the stamp later, never earlier than the reply. settle-n.lua also
 * keeps it no earlier than the grant.
 */
function replyAge(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
}

function checkMs(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`Expected \`${name}\` to be a number of ms ≥ ${min}, got ${value}`);
  }
  return Math.round(value);
}

function toInteger(reply: unknown, script: string): number {
  if (typeof reply !== 'number') throw new TypeError(`${script} answered ${String(reply)}`);
  return reply;
}

function toIntegers(reply: unknown, script: string): number[] {
  if (!Array.isArray(reply)) throw new TypeError(`${script} answered ${String(reply)}`);
  return reply.map((item) => toInteger(item, script));
}
