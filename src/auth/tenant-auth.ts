import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/** Today's only tenant: the one the environment variables and config file describe. */
export const DEFAULT_TENANT = 'default';

/**
 * One tenant's auth settings. Doctor and sign-in take these as a parameter so that, once tenants
 * are configured as a list (issue 10), they run per tenant without change.
 */
export interface TenantAuthSettings {
  name: string;
  defender: Config['defender'];
  /** The MSAL token cache file of delegated sign-in for this tenant. */
  cachePath: string;
}

/** The cache file: as configured, else under the user's home (per tenant beyond `default`). */
export function tokenCachePath(
  defender: Pick<Config['defender'], 'tokenCachePath'>,
  tenant: string,
  home: string = homedir(),
): string {
  if (defender.tokenCachePath) return defender.tokenCachePath;
  const file = tenant === DEFAULT_TENANT ? 'token-cache.json' : `token-cache.${tenant}.json`;
  return join(home, '.fleetscan', file);
}

/** The `default` tenant built from today's configuration. */
export function defaultTenantAuth(
  config: { readonly defender: Config['defender'] },
  home?: string,
): TenantAuthSettings {
  return {
    name: DEFAULT_TENANT,
    defender: config.defender,
    cachePath: tokenCachePath(config.defender, DEFAULT_TENANT, home),
  };
}
