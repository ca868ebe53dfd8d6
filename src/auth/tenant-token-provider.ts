import type { Logger } from '../shared/logger.js';
import { createDelegatedClient } from './delegated-client.js';
import { createDelegatedTokenProvider } from './delegated-token-provider.js';
import type { TenantAuthSettings } from './tenant-auth.js';
import {
  createTokenProvider,
  type TokenProvider,
  type TokenProviderDeps,
} from './token-provider.js';

/**
 * The token provider one tenant's settings ask for: the signed-in user's (shared cache of
 * `fleetscan login`) when `defender.auth` is `delegated`, else the app's own credentials.
 */
export function tenantTokenProvider(
  tenant: TenantAuthSettings,
  deps: TokenProviderDeps & { log: Logger },
): TokenProvider {
  if (tenant.defender.auth === 'delegated' && !tenant.defender.accessToken) {
    return createDelegatedTokenProvider(createDelegatedClient(tenant, deps.log), {
      log: deps.log,
      timeoutMs: tenant.defender.requestTimeout,
      ...(deps.onRefresh ? { onRefresh: deps.onRefresh } : {}),
    });
  }
  return createTokenProvider({ defender: tenant.defender }, deps);
}
