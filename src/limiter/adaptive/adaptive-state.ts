import type { EndpointFamily } from '../../defender/machine-action.js';
import type { AdaptiveSnapshot } from './adaptive-budget.js';

/** A budget's adaptive state as `fleetscan tenants` (issue 10) and other views show it. */
export interface AdaptiveBudgetView {
  /** `limits.adaptive.enabled` for the limiter asked. */
  enabled: boolean;
  family: EndpointFamily;
  windows: {
    windowMs: number;
    configuredCap: number;
    effectiveCap: number;
    floor: number;
  }[];
  /** Why a cap was last lowered, and when (epoch ms, Redis time); null when never. */
  lastDecrease: { reason: string; at: number } | null;
}

/**
 * One family's adaptive state of one budget, for any view that loops over tenants: pass each
 * tenant's limiter (`createScanLimiter` / `limiterFromConfig`). With the adaptive budget off,
 * `enabled` is false and `windows` is empty (the configured caps are the effective ones).
 */
export async function readAdaptiveState(
  limiter: { adaptiveState(family?: EndpointFamily): Promise<AdaptiveSnapshot[]> },
  family: EndpointFamily = 'scan',
): Promise<AdaptiveBudgetView> {
  const [snapshot] = await limiter.adaptiveState(family);
  if (!snapshot) return { enabled: false, family, windows: [], lastDecrease: null };
  return {
    enabled: true,
    family,
    windows: snapshot.windows.map((w) => ({ ...w })),
    lastDecrease: snapshot.lastDecrease,
  };
}
