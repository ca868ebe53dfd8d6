import { resolveCloud } from '../auth/clouds.js';
import { defaultTenantAuth, tokenCachePath } from '../auth/tenant-auth.js';
import { tenantTokenProvider } from '../auth/tenant-token-provider.js';
import type { Config } from '../config/schema.js';
import { createDefenderClient, type DefenderClient } from '../defender/client.js';
import type { CallGate } from '../defender/call-gate.js';
import type { CallStats } from '../metrics/call-stats.js';
import type { Logger } from '../shared/logger.js';

// Apart so that what reads budgets only (status, the tenant registry) loads no HTTP client.
export { adaptiveSettings, limiterFromConfig } from './limiter-from-config.js';

/**
 * The Defender client for this configuration: tokens per cloud, every call through `gate` and
 * counted in the shared call statistics. Throws ConfigError when no credentials are configured.
 */
export function clientFromConfig(
  config: Config,
  deps: { gate: CallGate; callStats: CallStats; log: Logger; tenant?: string },
): DefenderClient {
  const auth = defaultTenantAuth(config);
  const tenant = deps.tenant ?? auth.name;
  const settings = { ...auth, name: tenant, cachePath: tokenCachePath(config.defender, tenant) };
  const tokens = tenantTokenProvider(settings, {
    log: deps.log,
    onRefresh: () => {
      deps.callStats.recordTokenRefresh();
    },
  });
  return createDefenderClient({
    apiUrl: resolveCloud(config.defender).apiUrl,
    tokens,
    gate: deps.gate,
    timeoutMs: config.defender.requestTimeout,
    pageSize: config.defender.pageSize,
    throttleDefaultMs: config.limits.throttleDefault,
    log: deps.log.child({ component: 'defender' }),
    onCall: (event) => {
      deps.callStats.recordApiCall(event);
    },
  });
}
