import type { Logger } from 'pino';
import type { RateWindow } from '../../config/duration.js';
import type { EndpointFamily } from '../../defender/machine-action.js';
import { reserveFor } from '../../config/reserve.js';
import type { BudgetKeys } from '../budget-keys.js';
import {
  adjustCaps,
  clampState,
  floorsFor,
  initialAdaptiveState,
  type AdaptiveEvent,
  type AdaptiveParams,
  type AdaptiveState,
} from './adjust-caps.js';

/** `limits.adaptive` once parsed, the knobs of the adjustment rule and of the grant step. */
export interface AdaptiveSettings {
  /** Floor: a rate (`{cap, windowMs}`, scaled to each window) or a share of each configured cap. */
  min: { cap: number; windowMs: number } | { share: number };
  holdMs: number;
  holdMaxMs: number;
  increaseEveryMs: number;
  /** Most calls in flight above the level the server has been seen to accept. */
  probeInflight: number;
  /** `limits.reserve`: what normal campaigns leave free, so the rule knows a window is in use. */
  reserve?: readonly RateWindow[];
}

/** One budget's adaptive state as status, the dashboard, /metrics and `fleetscan tenants` show it. */
export interface AdaptiveWindowState {
  windowMs: number;
  configuredCap: number;
  effectiveCap: number;
  floor: number;
}

export interface AdaptiveSnapshot {
  family: EndpointFamily;
  windows: AdaptiveWindowState[];
  /** Why the caps were last lowered, and when (limiter timeline, ms); null when never. */
  lastDecrease: { reason: string; at: number } | null;
}

export type CallOutcome =
  { kind: 'ok' } | { kind: 'throttled'; grantedAt: number; windowMs: number | null };

type Run = (
  name: 'adapt-read-n' | 'adapt-apply-3',
  keys: string[],
  args: (string | number)[],
) => Promise<unknown>;

export interface AdaptiveBudgetOptions {
  /** The normalised configured windows (shortest first). */
  windows: readonly RateWindow[];
  settings: AdaptiveSettings;
  guardMs: number;
  run: Run;
  /** '' lets the scripts read Redis TIME; a number is simulated time (tests). */
  nowArg: () => number | '';
  log?: Logger | undefined;
}

export interface AdaptiveBudget {
  readonly params: AdaptiveParams;
  /** Feeds one call's outcome to the rule and applies its decision atomically. */
  observe(keys: BudgetKeys, family: EndpointFamily, outcome: CallOutcome): Promise<void>;
  snapshot(keys: BudgetKeys, family: EndpointFamily): Promise<AdaptiveSnapshot>;
}

/** Attempts of the compare-and-set before giving up on one event (another process won). */
const CAS_ATTEMPTS = 4;

/**
 * How long a verified level lasts after the last success that reached it: a week and a day, so
 * a weekly schedule finds its budget warm even when it fires late. A 429 decrease forgets it.
 */
export const VERIFIED_TTL_MS = 8 * 86_400_000;

interface Reading {
  now: number;
  version: number;
  state: AdaptiveState;
  inflight: number;
  /** Of those in flight, granted no later than the slot that drew the 429 (0 otherwise). */
  inflightBefore: number;
  stamped: number[];
  /** Known-good level per window: the most of ours the server was seen to accept in it. */
  accepted: number[];
}

/**
 * The IO around `adjustCaps`: reads a budget's state and window counts in one script, decides,
 * and writes with compare-and-set, so every process applies one decision per storm; logs once
 * per change of the effective caps (the process whose write wins logs, the others see no
 * change when they decide again).
 */
export function createAdaptiveBudget(options: AdaptiveBudgetOptions): AdaptiveBudget {
  const { windows, settings, guardMs, run, nowArg, log } = options;
  const params: AdaptiveParams = {
    windows,
    floors: floorsFor(windows, settings.min),
    holdMs: settings.holdMs,
    holdMaxMs: Math.max(settings.holdMs, settings.holdMaxMs),
    increaseEveryMs: settings.increaseEveryMs,
    reserves: reserveFor(windows, settings.reserve ?? []),
  };
  const longestSpan = Math.max(...windows.map((w) => w.windowMs)) + guardMs;
  // Learned caps outlive a quiet day: a budget lowered yesterday is likely still shared today.
  const stateTtlMs = Math.max(86_400_000, longestSpan * 24);
  // Verified levels outlive a quiet week, so a weekly sweep starts at full speed (issue 26).
  const verifiedTtlMs = Math.max(VERIFIED_TTL_MS, stateTtlMs);

  const read = async (keys: BudgetKeys, markGood: boolean, grantedAt = -1): Promise<Reading> => {
    const reply = await run(
      'adapt-read-n',
      [keys.adaptive, keys.good, keys.inflight, keys.caps, ...keys.windows],
      [
        nowArg(),
        guardMs,
        markGood ? 1 : 0,
        longestSpan,
        grantedAt,
        verifiedTtlMs,
        ...windows.map((w) => w.windowMs),
      ],
    );
    if (!Array.isArray(reply) || reply.length < 5 + 2 * windows.length) {
      throw new TypeError(`adapt-read-n answered ${String(reply)}`);
    }
    const [now, version, json, inflight, inflightBefore, ...levels] = reply as [
      number,
      number,
      string,
      number,
      number,
      ...number[],
    ];
    const stamped = levels.slice(0, windows.length);
    const accepted = levels.slice(windows.length, 2 * windows.length);
    return {
      now,
      version,
      state: parseState(params, json),
      inflight,
      inflightBefore,
      stamped,
      accepted,
    };
  };

  const decide = async (
    keys: BudgetKeys,
    family: EndpointFamily,
    eventOf: (reading: Reading) => AdaptiveEvent,
    markGood: boolean,
    grantedAt?: number,
  ): Promise<void> => {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const reading = await read(keys, markGood && attempt === 0, grantedAt);
      const event = eventOf(reading);
      // Nothing learned yet and all is well: the common case costs one script call.
      if (event.kind === 'successes' && reading.version === 0) return;
      const decision = adjustCaps(params, reading.state, event, reading.now);
      if (sameState(decision.state, reading.state)) return;
      const written = await run(
        'adapt-apply-3',
        [keys.adaptive, keys.caps, keys.good],
        [
          reading.version,
          JSON.stringify(decision.state),
          stateTtlMs,
          decision.change === 'decrease' ? 1 : 0,
          windows.some((w, i) => (decision.state.caps[i] ?? w.cap) < w.cap) ? 1 : 0,
          ...windows.flatMap((w, i) => [w.windowMs, decision.state.caps[i] ?? w.cap]),
        ],
      );
      if (written !== 1) continue;
      if (decision.change !== 'none') {
        const caps = windows.map((w, i) => `${decision.state.caps[i] ?? w.cap}/${w.windowMs}ms`);
        log?.[decision.change === 'decrease' ? 'warn' : 'info'](
          { family, caps, change: decision.change },
          decision.change === 'decrease'
            ? `effective cap lowered: ${decision.why}`
            : `effective cap raised: ${decision.why}`,
        );
      }
      return;
    }
    log?.debug({ family }, 'adaptive budget: other processes kept deciding first');
  };

  return {
    params,
    observe: (keys, family, outcome) =>
      outcome.kind === 'ok'
        ? decide(
            keys,
            family,
            (r) => ({
              kind: 'successes',
              used: r.stamped.map((n) => n + r.inflight),
              accepted: r.accepted,
            }),
            true,
          )
        : decide(
            keys,
            family,
            (r) => ({
              kind: 'throttled',
              grantedAt: outcome.grantedAt,
              windowMs: outcome.windowMs,
              // In flight and sent before it: the server most likely counted those too.
              used: r.stamped.map((n) => n + r.inflightBefore),
              accepted: r.accepted,
            }),
            false,
            outcome.grantedAt,
          ),
    snapshot: async (keys, family) => {
      const { state } = await read(keys, false);
      return {
        family,
        windows: windows.map((w, i) => ({
          windowMs: w.windowMs,
          configuredCap: w.cap,
          effectiveCap: state.caps[i] ?? w.cap,
          floor: params.floors[i] ?? 1,
        })),
        lastDecrease:
          state.reason !== null && state.lastDecreaseAt !== null
            ? { reason: state.reason, at: state.lastDecreaseAt }
            : null,
      };
    },
  };
}

/** The stored JSON, or the initial state when there is none or it cannot be read. */
function parseState(params: AdaptiveParams, json: string): AdaptiveState {
  if (json === '') return initialAdaptiveState(params);
  try {
    const value = JSON.parse(json) as Partial<AdaptiveState> | null;
    if (value === null || typeof value !== 'object' || !Array.isArray(value.caps)) {
      return initialAdaptiveState(params);
    }
    const fresh = initialAdaptiveState(params);
    return clampState(params, {
      caps: value.caps.map(Number),
      ceilings: Array.isArray(value.ceilings)
        ? value.ceilings.map((c) => (typeof c === 'number' ? c : null))
        : fresh.ceilings,
      lastDecreaseAt: typeof value.lastDecreaseAt === 'number' ? value.lastDecreaseAt : null,
      lastIncreaseAt: typeof value.lastIncreaseAt === 'number' ? value.lastIncreaseAt : null,
      holdMs: typeof value.holdMs === 'number' ? value.holdMs : fresh.holdMs,
      step: typeof value.step === 'number' ? value.step : 1,
      unprobed: typeof value.unprobed === 'number' ? value.unprobed : 0,
      shared: value.shared === true,
      reason: typeof value.reason === 'string' ? value.reason : null,
    });
  } catch {
    // A state we cannot read is replaced by the next decision; meanwhile the configured caps.
    return initialAdaptiveState(params);
  }
}

function sameState(a: AdaptiveState, b: AdaptiveState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
