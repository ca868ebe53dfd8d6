import type { Config } from '../config/schema.js';
import type { DefenderClient } from '../defender/client.js';
import { laneKeys, wakeChannel } from '../lanes/lane-keys.js';
import { createScanLimiter } from '../limiter/scan-limiter.js';
import { clientFromConfig } from './api-from-config.js';
import type { CallStats } from '../metrics/call-stats.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';
import type { TenantRuntime } from '../tenants/tenant-registry.js';
import { shareGate, shareWindows } from '../tracking/share-gate.js';

/**
 * The tracker's Defender client for one tenant: every list call takes a slot of the tracker's
 * own budget (`tracking.budgetShare` of each window, key `<tenant's budget id>:tracker`) and one
 * of that tenant's machineActions budget, so tracking never uses more than its share and scans
 * keep the rest. The share honours the tenant's breaker (a blocked tenant is not listed). `config` is the tenant's own (`tenantConfigOf`): its cloud, host and credentials.
 */
export function trackerClientFor(
  config: Config,
  tenant: Pick<TenantRuntime, 'name' | 'budgetId' | 'limiter'>,
  deps: { redis: Redis; callStats: CallStats; log: Logger },
): DefenderClient {
  const log = deps.log.child({ component: 'tracker', tenant: tenant.name });
  const laneTag = tenant.limiter.slotsOf('scan').keys.tag;
  const share = createScanLimiter({
    redis: deps.redis,
    // Beside the budget it is a share of: deployments sharing an app share both.
    prefix: config.redis.budgetPrefix,
    budgetId: `${tenant.budgetId}:tracker`,
    windows: shareWindows(config.limits.windows, config.tracking.budgetShare),
    guardMs: config.limits.guard,
    throttleDefaultMs: config.limits.throttleDefault,
    leaseMs: config.limits.lease,
    // The tenant's breaker, as the lanes honour it (the admission rule): while the budget is
    // blocked the tracker waits, and takes the probe when it is due (its reply may unblock).
    breaker: {
      key: laneKeys(config.redis.prefix, laneTag).breaker,
      channel: wakeChannel(config.redis.prefix),
      tag: laneTag,
    },
    log: log.child({ component: 'tracker-limiter' }),
  });
  return clientFromConfig(config, {
    gate: shareGate(tenant.limiter, share),
    callStats: deps.callStats,
    log,
    tenant: tenant.name,
  });
}
