import type { Campaign } from '../campaigns/campaign.js';
import type { Lanes } from './lanes.js';

/** Prometheus text of one gauge; label values here are bounded (tenants, classes, campaigns). */
function gauge(
  name: string,
  help: string,
  rows: readonly { labels: Record<string, string>; value: number }[],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const row of rows) {
    const labels = Object.entries(row.labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    lines.push(`${name}{${labels}} ${row.value}`);
  }
  return lines.join('\n');
}

export interface LaneMetricsDeps {
  lanes: Pick<Lanes, 'all'>;
  /** Tenant names per budget id (tenants sharing an identity share a lane). */
  tenantsOf(budgetId: string): readonly string[];
  /** Newest campaigns, for their tenant and class labels. */
  campaigns(): Promise<readonly Campaign[]>;
}

/**
 * The lanes' part of `/metrics` (replaces BullMQ's queue exporter): campaigns waiting per tenant
 * and class, devices due and in progress, the reserve, the breaker's block, and one info series
 * per campaign with its tenant and class. Labels come from configuration (tenants), the three classes and campaign ids.
 */
export function createLaneMetrics(deps: LaneMetricsDeps) {
  return {
    async exportPrometheusMetrics(): Promise<string> {
      const waiting: { labels: Record<string, string>; value: number }[] = [];
      const due: typeof waiting = [];
      const active: typeof waiting = [];
      const reserve: typeof waiting = [];
      const blocked: typeof waiting = [];
      const blockedSince: typeof waiting = [];
      for (const lane of deps.lanes.all()) {
        const stats = await lane.stats();
        const tenant = deps.tenantsOf(lane.budgetId).join('+');
        // One series per tenant whatever its state, so `== 1` alerts and `== 0` resolves them.
        const state = await lane.breaker.read();
        blocked.push({ labels: { tenant, reason: state?.reason ?? 'none' }, value: state ? 1 : 0 });
        blockedSince.push({ labels: { tenant }, value: state ? state.since / 1_000 : 0 });
        for (const [priority, n] of Object.entries(stats.campaigns))
          waiting.push({ labels: { tenant, priority }, value: n });
        due.push({ labels: { tenant }, value: stats.due });
        active.push({ labels: { tenant }, value: stats.active });
        lane.windows.forEach((w, i) =>
          reserve.push({
            labels: { tenant, window_seconds: String(w.windowMs / 1_000) },
            value: lane.reserve[i] ?? 0,
          }),
        );
      }
      const info = (await deps.campaigns()).map((c) => ({
        labels: { campaign: c.id, tenant: c.tenant, priority: c.priority },
        value: 1,
      }));
      return [
        gauge(
          'fleetscan_lane_campaigns_waiting',
          'Campaigns with devices ready for a slot, per tenant and class',
          waiting,
        ),
        gauge('fleetscan_lane_devices_due', 'Deferred devices waiting for their time', due),
        gauge('fleetscan_lane_devices_active', 'Devices a worker is working on now', active),
        gauge(
          'fleetscan_budget_reserve',
          'Calls per window kept free for urgent campaigns (limits.reserve)',
          reserve,
        ),
        gauge('fleetscan_campaign_info', 'Tenant and class of each campaign', info),
        gauge(
          'fleetscan_tenant_blocked',
          '1 while a tenant-wide fault (credentials, Entra, permission) blocks the tenant budget',
          blocked,
        ),
        gauge(
          'fleetscan_tenant_blocked_since_seconds',
          'Unix time the current block of the tenant budget began; 0 when not blocked',
          blockedSince,
        ),
      ].join('\n');
    },
  };
}
