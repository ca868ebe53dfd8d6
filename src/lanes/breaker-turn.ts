import type { Logger } from '../shared/logger.js';
import type { TenantVerdict } from '../tenants/tenant-fault.js';
import type { BreakerChange } from './budget-breaker.js';
import type { BudgetLane } from './budget-lane.js';

/**
 * Applies what a device's turn showed about its tenant to the budget's breaker: a fault blocks
 * (a probe's fault backs the next probe off); the probe turn's accepted call unblocks; a probe
 * turn that made no call hands the probe to the next dispatch at once. Turns that were not the
 * probe and saw nothing wrong touch no Redis key.
 */
export async function settleBreaker(
  lane: Pick<BudgetLane, 'breaker'>,
  probe: boolean,
  verdict: TenantVerdict | undefined,
): Promise<BreakerChange> {
  if (verdict !== undefined && verdict !== 'works') return lane.breaker.trip(verdict, probe);
  if (!probe) return { kind: 'none' };
  if (verdict === 'works') return lane.breaker.clear();
  await lane.breaker.release();
  return { kind: 'none' };
}

/** The one log line of a breaker change: an error when a budget blocks, info when it resumes. */
export function logBreakerChange(log: Logger, budgetId: string, change: BreakerChange): void {
  if (change.kind === 'blocked') {
    const { reason, message, probeAt, failures } = change.state;
    log.error(
      { budget: budgetId, reason, probeAt: new Date(probeAt).toISOString(), failures },
      `tenant blocked (${reason}): ${message}`,
    );
  } else if (change.kind === 'unblocked') {
    const { reason, since } = change.previous;
    log.info(
      { budget: budgetId, reason, since: new Date(since).toISOString() },
      'tenant unblocked: a probe call was accepted, dispatch resumes',
    );
  }
}
