import type { RateWindow } from '../config/duration.js';
import type { EndpointFamily } from '../defender/machine-action.js';

/** The Redis keys of one family's budget; all share one hash tag, so one Cluster slot. */
export interface BudgetKeys {
  pause: string;
  inflight: string;
  /**
   * Effective caps (issue 17): HASH window length in ms → cap; the grant step uses
   * min(configured, this). Written by the adaptive budget, read by every dispatcher.
   */
  caps: string;
  /** Calls per window the server was last seen to accept (HASH windowMs → count). */
  good: string;
  /** The adaptive rule's state: HASH `v` (version) and `state` (JSON). */
  adaptive: string;
  /** `{budgetId:scope}`: the Redis Cluster hash tag every key of this budget carries. */
  tag: string;
  /** One sliding log per window, in the order of the normalised windows. */
  windows: string[];
}

/**
 * `${prefix}:budget:{${budgetId}:${family}}:…` as in docs/design.md. The braces make the
 * budget id a Redis Cluster hash tag, so the id itself must not contain braces.
 */
export function budgetKeys(
  prefix: string,
  budgetId: string,
  scope: EndpointFamily | 'all',
  windows: readonly RateWindow[],
): BudgetKeys {
  const tag = `{${budgetId}:${scope}}`;
  const base = `${prefix}:budget:${tag}`;
  return {
    tag,
    pause: `${base}:pause`,
    inflight: `${base}:inflight`,
    caps: `${base}:caps`,
    good: `${base}:good`,
    adaptive: `${base}:adaptive`,
    windows: windows.map((window) => `${base}:w${window.windowMs}`),
  };
}
