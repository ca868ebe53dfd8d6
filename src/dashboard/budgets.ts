import type { BlockedReport } from '../lanes/blocked-tenants.js';

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
      families: await source.usage().catch(() => []),
      blocked: source.blocked ? await source.blocked().catch(() => null) : null,
    })),
  );
}
