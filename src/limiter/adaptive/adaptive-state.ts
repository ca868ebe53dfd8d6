import type { EndpointFamily } from '../../defender/machine-action.js';
import type { AdaptiveSnapshot } from './adaptive-budget.js';

/**
 * `off`: `limits.adaptive.enabled` is false; `configured`: every effective cap is the configured
 * one (nothing learned, or the room came back); `lowered`: a 429 taught a lower cap that holds.
 */
export type AdaptiveStateName = 'off' | 'configured' | 'lowered';

/** A budget's adaptive state as `fleetscan tenants` (issue 10) and other views show it. */
export interface AdaptiveBudgetView {
  /** `limits.adaptive.enabled` for the limiter asked. */
  enabled: boolean;
  state: AdaptiveStateName;
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
  if (!snapshot) return { enabled: false, state: 'off', family, windows: [], lastDecrease: null };
  const lowered = snapshot.windows.some((w) => w.effectiveCap < w.configuredCap);
  return {
    enabled: true,
    state: lowered ? 'lowered' : 'configured',
    family,
    windows: snapshot.windows.map((w) => ({ ...w })),
    lastDecrease: snapshot.lastDecrease,
  };
}
