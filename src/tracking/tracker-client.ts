import type { Config } from '../config/schema.js';
import type { DefenderClient } from '../defender/client.js';
import { budgetIdFor, createScanLimiter } from '../limiter/scan-limiter.js';
import { clientFromConfig } from '../runtime/api-from-config.js';
import type { Runtime } from '../runtime/build-runtime.js';
import { shareGate, shareWindows } from './share-gate.js';

/**
 * The tracker's Defender client: every list call takes a slot of the tracker's own budget
 * (`tracking.budgetShare` of each window, key `<budget id>:tracker`) and one of the shared
 * machineActions budget, so tracking never uses more than its share and scans keep the rest.
 */
export function trackerClientFromConfig(
  config: Config,
  runtime: Pick<Runtime, 'redis' | 'limiter' | 'callStats' | 'log'>,
): DefenderClient {
  const share = createScanLimiter({
    redis: runtime.redis,
    prefix: config.redis.prefix,
    budgetId: `${budgetIdFor(config)}:tracker`,
    windows: shareWindows(config.limits.windows, config.tracking.budgetShare),
    guardMs: config.limits.guard,
    throttleDefaultMs: config.limits.throttleDefault,
    leaseMs: config.limits.lease,
    log: runtime.log.child({ component: 'tracker-limiter' }),
  });
  return clientFromConfig(config, {
    gate: shareGate(runtime.limiter, share),
    callStats: runtime.callStats,
    log: runtime.log.child({ component: 'tracker' }),
  });
}
