import type { BlockedBudget, BudgetBreaker } from './budget-breaker.js';

/** A blocked budget as status, tenants, the dashboard and doctor show it (times as ISO text). */
export interface BlockedReport {
  reason: string;
  /** What was wrong and how to fix it. */
  message: string;
  since: string;
  nextProbeAt: string;
  /** Probes that failed since the block began. */
  failedProbes: number;
}

/** One blocked tenant (tenants of one API identity share their budget, hence its block). */
export interface BlockedTenant extends BlockedReport {
  tenant: string;
  budgetId: string;
}

export function blockedReport(state: BlockedBudget | null): BlockedReport | null {
  if (!state) return null;
  return {
    reason: state.reason,
    message: state.message,
    since: new Date(state.since).toISOString(),
    nextProbeAt: new Date(state.probeAt).toISOString(),
    failedProbes: state.failures,
  };
}

/** The parts of the tenant registry and lanes this needs. */
export interface BreakerSources {
  tenants: { list(): readonly { name: string; budgetId: string }[] };
  lanes: { forTenant(name: string): { breaker: Pick<BudgetBreaker, 'read'> } };
}

/** Every tenant whose budget is blocked now, in configuration order. */
export async function readBlockedTenants(sources: BreakerSources): Promise<BlockedTenant[]> {
  const blocked: BlockedTenant[] = [];
  for (const tenant of sources.tenants.list()) {
    const report = blockedReport(await sources.lanes.forTenant(tenant.name).breaker.read());
    if (report) blocked.push({ tenant: tenant.name, budgetId: tenant.budgetId, ...report });
  }
  return blocked;
}

/** One line for a person: which tenant, why, since when, when the next probe runs, the fix. */
export function describeBlocked(tenant: string, report: BlockedReport): string {
  return `tenant ${tenant} BLOCKED (${report.reason}) since ${report.since}, next probe ${report.nextProbeAt}: ${report.message}`;
}
