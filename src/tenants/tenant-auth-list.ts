import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import { tokenCachePath, type TenantAuthSettings } from '../auth/tenant-auth.js';
import type { Config } from '../config/schema.js';
import { configFor, hasDefaultCredentials } from './tenant-registry.js';

/**
 * Every configured tenant's auth settings, in the registry's order: `default` (the MDE_*
 * variables) when it is configured or no other tenant is, then the `tenants:` list. Doctor,
 * sign-in and `auth status` run per tenant from this.
 */
export function tenantAuthList(config: Config): TenantAuthSettings[] {
  const list: TenantAuthSettings[] = [];
  if (config.tenants.length === 0 || hasDefaultCredentials(config)) {
    list.push({
      name: DEFAULT_TENANT,
      defender: config.defender,
      cachePath: tokenCachePath(config.defender, DEFAULT_TENANT),
    });
  }
  for (const entry of config.tenants) {
    const { defender } = configFor(config, entry);
    list.push({ name: entry.name, defender, cachePath: tokenCachePath(defender, entry.name) });
  }
  return list;
}
