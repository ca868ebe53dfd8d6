import type { BlockedReport } from './blocked-tenants.js';
import type { NextAttempt } from './next-attempts.js';

/**
 * What the dashboard reads from a limiter. Structural on purpose: `createScanLimiter(...)` fits
 * it as is (`limiter.usage()`), and tests can hand in plain objects.
 */
export interface BudgetWindowUsage {
  /** The effective cap (the adaptive budget may have learned one below the configured cap). */
  cap: number;
  windowMs: number;
  used: number;
  /** The configured cap, when the adaptive budget is on. */
  configuredCap?: number | undefined;
  /** Of the cap, the calls kept for urgent campaigns (`limits.reserve`; scan family only). */
  reserve?: number | undefined;
}

export interface BudgetUsage {
  family: string;
  windows: readonly BudgetWindowUsage[];
  /** Epoch ms until which every call of this family waits after a 429; null when not paused. */
  pausedUntil: number | null;
  /** Why the adaptive budget last lowered a cap, and when (epoch ms). */
  lastDecrease?: { reason: string; at: number } | null | undefined;
}

export interface BudgetSource {
  /** `budgetIdFor(config)`: cloud, tenant and app, never a secret. */
  id: string;
  /** The configured tenants that spend this budget (one API identity), by name. */
  tenants?: readonly string[] | undefined;
  usage(): Promise<readonly BudgetUsage[]>;
  /** The budget's tenant-wide fault breaker (src/lanes/budget-breaker.ts); null while open. */
  blocked?: () => Promise<BlockedReport | null>;
  /** Scan calls per window kept for urgent campaigns (`BudgetLane.reserve`), windows' order. */
  reserve?: readonly number[];
  /** When each campaign's waiting devices are due in the budget's lane (`readNextAttempts`). */
  nextAttempts?: () => Promise<ReadonlyMap<string, NextAttempt>>;
}

export interface BudgetSnapshot {
  id: string;
  tenants?: readonly string[] | undefined;
  families: readonly BudgetUsage[];
  blocked?: BlockedReport | null | undefined;
}

/** Reads every budget; one that fails to answer shows as empty instead of failing the page. */
export async function readBudgets(sources: readonly BudgetSource[]): Promise<BudgetSnapshot[]> {
  return Promise.all(
    sources.map(async (source) => ({
      id: source.id,
      tenants: source.tenants,
      families: withReserve(await source.usage().catch(() => []), source.reserve ?? []),
      blocked: source.blocked ? await source.blocked().catch(() => null) : null,
    })),
  );
}

/** The scan family's windows with the urgent reserve of each (the lanes keep it for scans only). */
function withReserve(
  families: readonly BudgetUsage[],
  reserve: readonly number[],
): readonly BudgetUsage[] {
  if (!reserve.some((n) => n > 0)) return families;
  return families.map((usage) =>
    usage.family === 'scan'
      ? {
          ...usage,
          windows: usage.windows.map((w, i) => (reserve[i] ? { ...w, reserve: reserve[i] } : w)),
        }
      : usage,
  );
}

/** Every budget's due devices by campaign, merged (a campaign lives in one budget's lane). */
export async function readNextAttemptsOf(
  sources: readonly BudgetSource[],
): Promise<Map<string, NextAttempt>> {
  const merged = new Map<string, NextAttempt>();
  for (const source of sources) {
    const next = source.nextAttempts ? await source.nextAttempts().catch(() => null) : null;
    for (const [id, attempt] of next ?? []) merged.set(id, attempt);
  }
  return merged;
}
