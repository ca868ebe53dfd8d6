export interface PendingPolicy {
  /** First wait after a busy answer (`scan.pendingRetry`). */
  pendingRetry: number;
  /** Longest single wait (`scan.pendingRetryCap`). */
  pendingRetryCap: number;
  /** Give up this long after the first busy answer (`scan.pendingMaxWait`). */
  pendingMaxWait: number;
}

export type PendingDecision =
  { kind: 'retry'; until: number; firstBusyAt: number } | { kind: 'timeout' };

/**
 * When to try a busy device again. The wait equals the time already spent waiting (at least
 * `pendingRetry`, at most the cap), which doubles the total on every busy answer without storing
 * a counter: r, r, 2r, 4r, ... Every retry costs a call from the budget, so they must thin out.
 * `jitter` (0..1, from `Math.random` in production) spreads up to 10 % so devices that turned busy
 * together do not come back together. The last retry is pulled in to the deadline, so a device
 * still busy at `pendingMaxWait` is given up on at that moment rather than a whole wait later.
 */
export function decidePending(
  policy: PendingPolicy,
  firstBusyAt: number | null,
  now: number,
  jitter: number,
): PendingDecision {
  const since = firstBusyAt ?? now;
  const deadline = since + policy.pendingMaxWait;
  if (now >= deadline) return { kind: 'timeout' };
  const waited = now - since;
  const spread = 1 + 0.1 * Math.min(1, Math.max(0, jitter));
  const delay = Math.round(
    Math.min(policy.pendingRetryCap, Math.max(policy.pendingRetry, waited) * spread),
  );
  return { kind: 'retry', until: Math.min(now + delay, deadline), firstBusyAt: since };
}
