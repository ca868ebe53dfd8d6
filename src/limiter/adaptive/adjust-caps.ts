import type { RateWindow } from '../../config/duration.js';

/**
 * The adaptive budget's rule (issue 17), pure: current state + one event + the time → the next
 * state. IO (Redis, logging) lives in `adaptive-budget.ts`; this file only decides.
 *
 * Decrease: a 429 on a slot the limiter granted means the server's real cap for us is below
 * the effective one. The server refused the call while our window held `used` settled slots
 * (this one included), so about `used - 1` of ours fit: that is the new cap, never less than
 * half the old one in one step (a miscount cannot collapse it) and never below the floor.
 * Only the first 429 of a storm counts: slots granted before the last decrease (or in the same
 * millisecond) were sent under the old cap and say nothing new.
 *
 * A second decrease with no increase between them is different: the level that fitted after
 * the first one stopped fitting without any probe, so the room is shrinking (another consumer's
 * share grows for a whole window after it starts, and ours keeps it starved until we leave it
 * room). Following it one call at a time costs a 429 per call; the cap drops × 0.7 instead, and
 * the room counts as shared: it may grow back, so failed probes keep the base hold.
 *
 * Increase: probing above a level that failed costs a 429 every time it fails again, and
 * Microsoft asks clients to back off, not to probe every minute. So after a decrease the caps
 * hold for `hold`; a failure at or below the level that failed before doubles the hold (up to
 * `holdMax`) unless the room is shared, a failure above it resets it. After the hold, while the budget is used up to
 * its cap (less the urgent reserve normal campaigns leave; demand, and no 429), every `increaseEvery` the cap grows by a step that doubles each time (1, 2, 4, …
 * units of 1 % of the configured cap), but never past the last level that fitted in one go:
 * the level that failed is probed by one unit (one 429 if it still fails), and only above it
 * do the steps grow again, from 1 (the server's cap is unknown again there: steps carried
 * over from the climb overshot it by several calls), back to the configured cap once the
 * server has room again (another consumer stopped).
 */

export interface AdaptiveParams {
  /** The configured windows, shortest first (normaliseWindows). */
  readonly windows: readonly RateWindow[];
  /** Lowest effective cap per window, same order; each ≤ the configured cap. */
  readonly floors: readonly number[];
  readonly holdMs: number;
  readonly holdMaxMs: number;
  readonly increaseEveryMs: number;
  /**
   * Calls per window kept for urgent campaigns (`limits.reserve`, scaled like the cap by the
   * dispatcher): normal campaigns alone fill a window only up to cap − reserve. Absent: none.
   */
  readonly reserves?: readonly number[];
}

export interface AdaptiveState {
  /** Effective cap per window, same order as the configured windows. */
  readonly caps: readonly number[];
  /**
   * The level that failed at the last accepted 429, per window: one above what fitted (null:
   * none yet). Probes stop one short of it, then try it by one unit.
   */
  readonly ceilings: readonly (number | null)[];
  readonly lastDecreaseAt: number | null;
  readonly lastIncreaseAt: number | null;
  /** Current hold after a decrease, ms. */
  readonly holdMs: number;
  /** Multiplier of the next increase (1, 2, 4, …). */
  readonly step: number;
  /** Decreases since the last increase: a second one means the room keeps shrinking. */
  readonly unprobed: number;
  /**
   * The room has moved (another consumer took a growing share): it may move back, so failed
   * probes do not lengthen the hold. Cleared once every cap is back at the configured one.
   */
  readonly shared: boolean;
  /** Why the caps were last lowered, for status, the dashboard and /metrics. */
  readonly reason: string | null;
}

export type AdaptiveEvent =
  | {
      readonly kind: 'throttled';
      /** When the limiter granted the slot that drew the 429 (limiter timeline). */
      readonly grantedAt: number;
      /** Window length the 429 named, or null when it named none (the real API never does). */
      readonly windowMs: number | null;
      /**
       * Our calls in each window when the 429 was reported: settled ones (this one included)
       * and those in flight that were granted before this one.
       */
      readonly used: readonly number[];
      /**
       * Per window, the most of ours the server was seen to accept in it (0: unknown). Our
       * count includes refused calls of the storm, which the server did not count; this does not.
       */
      readonly accepted?: readonly number[];
    }
  | {
      readonly kind: 'successes';
      /** Slots counted in each window now (settled and in flight). */
      readonly used: readonly number[];
      /**
       * Per window, the most of ours the server was seen to accept in it (0: unknown). At a
       * 429 the calls still in flight were not counted yet, so the level that failed may be
       * set too low; what the server accepted since corrects it.
       */
      readonly accepted?: readonly number[];
    };

export type AdaptiveChange = 'none' | 'decrease' | 'increase';

export interface AdaptiveDecision {
  readonly state: AdaptiveState;
  readonly change: AdaptiveChange;
  /** Why: for the log line written once per change, and for tests. */
  readonly why: string;
}

/** Largest increase multiplier: 64 % of the configured cap per step. */
const MAX_STEP = 64;

/** A window whose fill is within this of the fullest one is a suspect for an unnamed 429. */
const SUSPECT_MARGIN = 0.1;

/**
 * Multiplicative decrease when the room keeps shrinking without any probe: the share of a
 * consumer we cannot see grows for a whole window after it starts, so following it one call at
 * a time costs a 429 per call; 0.7 is TCP CUBIC's β, enough below to let it settle.
 */
const SHRINK = 0.7;

export function initialAdaptiveState(params: AdaptiveParams): AdaptiveState {
  return {
    caps: params.windows.map((w) => w.cap),
    ceilings: params.windows.map(() => null),
    lastDecreaseAt: null,
    lastIncreaseAt: null,
    holdMs: params.holdMs,
    step: 1,
    unprobed: 0,
    shared: false,
    reason: null,
  };
}

export function adjustCaps(
  params: AdaptiveParams,
  state: AdaptiveState,
  event: AdaptiveEvent,
  now: number,
): AdaptiveDecision {
  const current = clampState(params, state);
  return event.kind === 'throttled'
    ? decrease(params, current, event, now)
    : increase(params, current, event, now);
}

function decrease(
  params: AdaptiveParams,
  state: AdaptiveState,
  event: Extract<AdaptiveEvent, { kind: 'throttled' }>,
  now: number,
): AdaptiveDecision {
  if (state.lastDecreaseAt !== null && event.grantedAt <= state.lastDecreaseAt) {
    return { state, change: 'none', why: 'slot granted before the last decrease (same storm)' };
  }
  const suspects = suspectWindows(params, state, event);
  const caps = [...state.caps];
  const ceilings = [...state.ceilings];
  // A second decrease with no increase between: the level that fitted after the first one no
  // longer does, so the room is shrinking (someone else's share grows), not a probe failing.
  // A 429 within the hold after the last decrease is that storm's tail (a slot granted while
  // the window emptied), not evidence that the new level failed.
  const shrinking =
    state.unprobed >= 1 &&
    state.lastDecreaseAt !== null &&
    now - state.lastDecreaseAt >= state.holdMs;
  let repeat = false;
  const parts: string[] = [];
  for (const w of suspects) {
    const configured = params.windows[w];
    const cap = caps[w];
    if (!configured || cap === undefined) continue;
    const used = event.used[w] ?? 0;
    // What fitted: one below our count at the 429, or, when lower and known, what the server
    // accepted (our count holds the storm's other refused calls, which the server never counted).
    const accepted = event.accepted?.[w] ?? 0;
    const counted = accepted > 0 ? Math.min(used - 1, accepted) : used - 1;
    const previous = ceilings[w] ?? null;
    // A probe at (or past) the level that failed before failing again says that level still
    // fails, not that less fits now (our count at the 429 runs a reply or two late): what
    // fitted then still does. A room that really shrank fails again with no probe (shrinking).
    const probed = previous !== null && !shrinking && cap >= previous;
    const fit = probed ? Math.max(counted, previous - 1) : counted;
    // The level that failed is the one above what fitted, not our count: that count holds the
    // storm's calls in flight, and a later probe aimed one short of it overshot by as many.
    const failed = fit + 1;
    // At or below the level that failed last time (give or take one: our counts are a
    // reply late): the server's cap is no higher than then, our probe failed again.
    if (previous !== null && failed <= previous + 1) repeat = true;
    ceilings[w] = failed;
    const fitted = Math.min(cap - 1, Math.max(Math.ceil(cap / 2), fit));
    const half = Math.ceil(cap / 2);
    const target = shrinking
      ? Math.min(fitted, Math.max(half, Math.floor(SHRINK * fitted)))
      : fitted;
    caps[w] = Math.max(params.floors[w] ?? 1, target);
    parts.push(
      `${formatWindow(configured.windowMs)} window ${cap} → ${caps[w]} (${used} of ours in it${
        shrinking ? ', room still shrinking' : ''
      })`,
    );
  }
  const named = event.windowMs !== null && suspects.length === 1;
  const reason = `429 on a granted slot${named ? '' : ' (window not named)'}: ${parts.join('; ')}`;
  const changed = caps.some((cap, w) => cap !== state.caps[w]);
  const shared = state.shared || shrinking;
  const next: AdaptiveState = {
    caps,
    ceilings,
    lastDecreaseAt: now,
    lastIncreaseAt: state.lastIncreaseAt,
    // A cap that keeps failing at the same level is the server's: probe it less and less
    // often. A room that moved may move back: keep probing it every hold.
    holdMs: repeat && !shared ? Math.min(params.holdMaxMs, state.holdMs * 2) : params.holdMs,
    step: 1,
    unprobed: changed ? state.unprobed + 1 : state.unprobed,
    shared,
    reason: changed ? reason : state.reason,
  };
  return changed
    ? { state: next, change: 'decrease', why: reason }
    : { state: next, change: 'none', why: 'already at the floor' };
}

/** The named window; else every window nearly as full (by its effective cap) as the fullest. */
function suspectWindows(
  params: AdaptiveParams,
  state: AdaptiveState,
  event: Extract<AdaptiveEvent, { kind: 'throttled' }>,
): number[] {
  const named = params.windows.findIndex((w) => w.windowMs === event.windowMs);
  if (named >= 0) return [named];
  // A window our calls barely use is not what the server ran out of: lowering the hour after
  // a minute-window 429 would only slow long campaigns down.
  const fills = state.caps.map((cap, w) => (event.used[w] ?? 0) / cap);
  const fullest = Math.max(...fills);
  return fills.flatMap((fill, w) => (fill >= fullest - SUSPECT_MARGIN ? [w] : []));
}

function increase(
  params: AdaptiveParams,
  state: AdaptiveState,
  event: Extract<AdaptiveEvent, { kind: 'successes' }>,
  now: number,
): AdaptiveDecision {
  const lowered = state.caps.some((cap, w) => cap < (params.windows[w]?.cap ?? cap));
  if (!lowered) return { state, change: 'none', why: 'at the configured caps' };
  if (state.lastDecreaseAt !== null && now - state.lastDecreaseAt < state.holdMs) {
    return { state, change: 'none', why: 'holding after the last decrease' };
  }
  const { lastIncreaseAt, lastDecreaseAt } = state;
  const lastWasIncrease =
    lastIncreaseAt !== null && (lastDecreaseAt === null || lastIncreaseAt > lastDecreaseAt);
  if (lastWasIncrease && now - lastIncreaseAt < params.increaseEveryMs) {
    return { state, change: 'none', why: 'too soon after the last increase' };
  }
  const caps = [...state.caps];
  const ceilings = state.ceilings.map((c, w) => correctedCeiling(c, event.accepted?.[w] ?? 0));
  const parts: string[] = [];
  // A probe of the level that failed restarts the steps: above it the server's cap is unknown
  // again, and steps carried over from the climb below it would overshoot by as many calls.
  let probedFailedLevel = false;
  for (const [w, configured] of params.windows.entries()) {
    const cap = caps[w] ?? configured.cap;
    const unit = Math.max(1, Math.round(configured.cap / 100));
    // Only a window that limits us: raising a cap nobody reaches would prove nothing. Normal
    // campaigns stop short of the cap by the reserve they leave to urgent ones.
    const reserve = scaledReserve(params.reserves?.[w] ?? 0, cap, configured.cap);
    if (cap >= configured.cap || (event.used[w] ?? 0) < cap - reserve - unit) continue;
    const ceiling = ceilings[w] ?? null;
    let next = cap + state.step * unit;
    // Below the level that failed, climb fast but stop one short of it (what fitted then);
    // from there, probe the failed level itself by one unit: a wrong guess costs one 429.
    if (ceiling !== null && cap < ceiling - 1) next = Math.min(next, ceiling - 1);
    else if (ceiling !== null && cap < ceiling) {
      next = cap + unit;
      probedFailedLevel = true;
    }
    caps[w] = Math.min(configured.cap, next);
    parts.push(`${formatWindow(configured.windowMs)} window ${cap} → ${caps[w]}`);
  }
  if (parts.length === 0) return { state, change: 'none', why: 'no lowered window is in use' };
  const restored = caps.every((cap, w) => cap >= (params.windows[w]?.cap ?? cap));
  return {
    state: {
      ...state,
      caps,
      ceilings,
      lastIncreaseAt: now,
      step: probedFailedLevel ? 1 : Math.min(MAX_STEP, state.step * 2),
      unprobed: 0,
      shared: state.shared && !restored,
    },
    change: 'increase',
    why: `calls succeed: ${parts.join('; ')}`,
  };
}

/** The level that failed, raised above what the server has accepted since (it cannot be lower). */
function correctedCeiling(ceiling: number | null, accepted: number): number | null {
  return ceiling !== null && accepted >= ceiling ? accepted + 1 : ceiling;
}

/** A state from Redis may predate a config change: bring every cap back into [floor, configured]. */
export function clampState(params: AdaptiveParams, state: AdaptiveState): AdaptiveState {
  const caps = params.windows.map((configured, w) => {
    const cap = state.caps[w];
    const floor = params.floors[w] ?? 1;
    return cap === undefined || !Number.isFinite(cap)
      ? configured.cap
      : Math.min(configured.cap, Math.max(floor, Math.round(cap)));
  });
  const ceilings = params.windows.map((_, w) => state.ceilings[w] ?? null);
  const step = Number.isFinite(state.step) && state.step >= 1 ? Math.min(MAX_STEP, state.step) : 1;
  const holdMs = Math.min(params.holdMaxMs, Math.max(params.holdMs, state.holdMs || 0));
  const unprobed = Number.isInteger(state.unprobed) && state.unprobed > 0 ? state.unprobed : 0;
  return { ...state, caps, ceilings, step, holdMs, unprobed };
}

/** `60000` → `1m`, `3600000` → `1h`, `6000` → `6s`. */
export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * Floor of each window from `limits.adaptive.min`: a rate (`10/1m` → 10 per minute, 600 per
 * hour, 1 per 600 ms… scaled by window length) or a share of each configured cap (`10%`, for
 * compressed windows whose time unit is not the real one). Always within [1, configured cap].
 */
export function floorsFor(
  windows: readonly RateWindow[],
  min: { readonly cap: number; readonly windowMs: number } | { readonly share: number },
): number[] {
  return windows.map((w) => {
    const raw = 'share' in min ? w.cap * min.share : (min.cap * w.windowMs) / min.windowMs;
    return Math.min(w.cap, Math.max(1, Math.ceil(raw - 1e-9)));
  });
}

/**
 * The reserve kept free under an effective cap: the configured reserve shrinks with the cap
 * (dispatch-n.lua applies the same rule), so a lowered budget keeps room for normal campaigns.
 */
export function scaledReserve(reserve: number, cap: number, configuredCap: number): number {
  return configuredCap > 0
    ? Math.floor((reserve * Math.min(cap, configuredCap)) / configuredCap)
    : 0;
}
