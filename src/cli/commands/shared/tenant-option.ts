import {
  DEFAULT_TENANT,
  defaultTenantAuth,
  type TenantAuthSettings,
} from '../../../auth/tenant-auth.js';
import type { Config } from '../../../config/schema.js';
import { UsageError } from '../../errors.js';

/** `--tenant NAME`: `default` (today's only tenant) unless tenants are configured. */
export function tenantFor(config: Config, name: string | undefined): TenantAuthSettings {
  const wanted = name ?? DEFAULT_TENANT;
  if (wanted !== DEFAULT_TENANT) {
    throw new UsageError(
      `Unknown tenant ${JSON.stringify(wanted)}: the only tenant is "default" (the one MDE_TENANT_ID and the config file describe).`,
    );
  }
  return defaultTenantAuth(config);
}
