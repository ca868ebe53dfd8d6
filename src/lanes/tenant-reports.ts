import type { Priority } from '../campaigns/campaign.js';
import { scaledReserve } from '../limiter/adaptive/adjust-caps.js';
import { readAdaptiveState, type AdaptiveBudgetView } from '../limiter/scan-limiter.js';
import type { TenantRegistry } from '../tenants/tenant-registry.js';
import { blockedReport, type BlockedReport } from './blocked-tenants.js';
import type { Lanes } from './lanes.js';
import { fitsNow } from './reserve.js';

export interface TenantReport {
  name: string;
  cloud: string;
  budgetId: string;
  /** `cap`: the effective cap the dispatcher applies (below `configuredCap` once a 429 taught it). */
  windows: {
    cap: number;
    configuredCap: number;
    windowMs: number;
    used: number;
    reserve: number;
  }[];
  /** The scan budget's adaptive state (issue 17): effective vs configured caps, last decrease. */
  adaptive: AdaptiveBudgetView;
  /** ms until a 429's pause ends (this budget only); 0 when not held. */
  heldForMs: number;
  /** Whether a normal/background campaign may call now without touching the reserve. */
  normalMayCall: boolean;
  /** Whether an urgent campaign may call now. */
  urgentMayCall: boolean;
  campaignsWaiting: Record<Priority, number>;
  devicesDue: number;
  devicesInProgress: number;
  /** The tenant-wide fault breaker: why dispatch stopped and the fix; null while calls may go. */
  blocked: BlockedReport | null;
}

/** The dispatch state of a tenant in one word, as `fleetscan tenants` and the dashboard say it. */
export type TenantHold = 'blocked' | 'held' | 'open' | 'reserve only' | 'full';

export function tenantHold(report: TenantReport): TenantHold {
  if (report.blocked) return 'blocked';
  if (report.heldForMs > 0) return 'held';
  if (report.normalMayCall) return 'open';
  return report.urgentMayCall ? 'reserve only' : 'full';
}

/**
 * Every configured tenant's scan budget use, reserve, hold, adaptive caps, breaker and waiting
 * work: what `fleetscan tenants` prints and the dashboard's tenants panel shows. `now` is the
 * clock of the 429 pauses (Redis TIME in production).
 */
export async function readTenantReports(
  sources: { tenants: Pick<TenantRegistry, 'list'>; lanes: Pick<Lanes, 'forTenant'> },
  now: number,
): Promise<TenantReport[]> {
  const reports: TenantReport[] = [];
  for (const tenant of sources.tenants.list()) {
    const lane = sources.lanes.forTenant(tenant.name);
    const [usage] = await tenant.limiter.usage('scan');
    const stats = await lane.stats();
    const adaptive = await readAdaptiveState(tenant.limiter, 'scan');
    const windows = lane.windows.map((w, i) => ({
      cap: usage?.windows[i]?.cap ?? w.cap,
      configuredCap: w.cap,
      windowMs: w.windowMs,
      used: usage?.windows[i]?.used ?? 0,
      // Under a lowered cap the dispatcher keeps the reserve's share, not its count.
      reserve: scaledReserve(lane.reserve[i] ?? 0, usage?.windows[i]?.cap ?? w.cap, w.cap),
    }));
    const heldForMs = Math.max(0, (usage?.pausedUntil ?? now) - now);
    const used = windows.map((w) => w.used);
    const caps = windows.map((w) => w.cap);
    const reserve = windows.map((w) => w.reserve);
    reports.push({
      name: tenant.name,
      cloud: tenant.cloud,
      budgetId: tenant.budgetId,
      windows,
      adaptive,
      heldForMs,
      normalMayCall: heldForMs === 0 && fitsNow(false, used, caps, reserve),
      urgentMayCall: heldForMs === 0 && fitsNow(true, used, caps, reserve),
      campaignsWaiting: stats.campaigns,
      devicesDue: stats.due,
      devicesInProgress: stats.active,
      blocked: blockedReport(await lane.breaker.read()),
    });
  }
  return reports;
}
