import { formatDuration } from '../../config/duration.js';
import type { BudgetUsage } from '../../limiter/scan-limiter.js';
import type { BlockedReport } from '../../lanes/blocked-tenants.js';
import { fail, ok, warn, type CheckResult } from './check-result.js';

/**
 * The tenant's budget as the limiter holds it: use per window, and holds (a pause after a 429).
 * Pure: `usage` from `limiter.usage()`, `nowMs` on the limiter's timeline (Redis TIME).
 */
export function judgeThrottling(
  tenant: string,
  usage: readonly BudgetUsage[],
  nowMs: number,
): CheckResult[] {
  return usage.map((budget) => {
    const windows = budget.windows
      .map((w) => `${String(w.used)}/${String(w.cap)} per ${formatDuration(w.windowMs)}`)
      .join(', ');
    const id = `throttling.${budget.family}`;
    if (budget.pausedUntil !== null && budget.pausedUntil > nowMs) {
      return {
        ...warn(
          'throttling',
          id,
          `${budget.family}: held for ${formatDuration(budget.pausedUntil - nowMs)} after a 429 (${windows})`,
          'Nothing to do unless it keeps happening: the hold ends by itself; lower FLEETSCAN_RATE_LIMITS if another tool shares this app.',
        ),
        tenant,
      };
    }
    return { ...ok('throttling', id, `${budget.family}: ${windows}`), tenant };
  });
}

/**
 * The tenant-wide fault breaker of the tenant's budget (issue 9): a block stops every campaign
 * of the tenant until a probe call succeeds, so it fails the check, with the fix it names.
 */
export function judgeBreaker(tenant: string, blocked: BlockedReport | null): CheckResult {
  if (!blocked)
    return { ...ok('throttling', 'throttling.breaker', 'dispatch not blocked'), tenant };
  return {
    ...fail(
      'throttling',
      'throttling.breaker',
      `dispatch blocked since ${blocked.since} (${blocked.reason}; ${String(blocked.failedProbes)} failed probes, next probe ${blocked.nextProbeAt})`,
      blocked.message,
    ),
    tenant,
  };
}
