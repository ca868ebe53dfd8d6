import type { EndpointFamily } from './machine-action.js';

/** A slot taken from a budget for one API call. Exactly one of its methods is called, once. */
export interface CallPermit {
  /**
   * The request was sent, or may have been: the slot stays counted and is re-stamped with the
   * time the reply came back (or the call failed), an upper bound of when the server counted it.
   * `repliedMsAgo`: how long before this call the reply arrived (measured locally, so the stamp
   * is not made late by the reply's own processing); 0 or absent: now.
   */
  settle(repliedMsAgo?: number): Promise<void>;
  /** The request certainly never left this process: the slot is given back. */
  release(): Promise<void>;
}

/**
 * What the API client needs from the limiter: every call takes a slot of its family's budget
 * first, and a 429 holds the whole family. Implemented by `src/limiter`.
 */
export interface CallGate {
  /** Waits (sleeping, not spinning) until every window of `family` has room, and takes a slot. */
  acquire(family: EndpointFamily, signal?: AbortSignal): Promise<CallPermit>;
  /** After a 429: every caller of `family`, in every process, waits `ms` before its next call. */
  throttle(family: EndpointFamily, ms: number): Promise<void>;
  /**
   * Optional (issue 17, adaptive budget): the HTTP status the server answered to a call made with
   * `permit` (after the permit was settled), so a 429 on a granted slot can lower the budget's
   * effective cap and successes can raise it again.
   */
  observe?(family: EndpointFamily, permit: CallPermit, status: number): Promise<void>;
}
