import type { TenantAuthSettings } from '../../../auth/tenant-auth.js';
import type { Config } from '../../../config/schema.js';
import { tenantAuthList } from '../../../tenants/tenant-auth-list.js';
import { UsageError } from '../../errors.js';

/** `--tenant NAME`: one configured tenant; without it the first (`default` when it is set up). */
export function tenantFor(config: Config, name: string | undefined): TenantAuthSettings {
  const tenants = tenantAuthList(config);
  const found = name === undefined ? tenants[0] : tenants.find((t) => t.name === name);
  if (!found) {
    throw new UsageError(
      `Unknown tenant ${JSON.stringify(name ?? '')}: configured tenants are ${tenants.map((t) => t.name).join(', ') || 'none'}.`,
    );
  }
  return found;
}

/** `--tenant NAME` narrows to one tenant; without it, every configured tenant. */
export function tenantsFor(config: Config, name: string | undefined): TenantAuthSettings[] {
  return name === undefined ? tenantAuthList(config) : [tenantFor(config, name)];
}
