import type { Config } from '../../../config/schema.js';
import { tenantConfigOf, UnknownTenantError } from '../../../tenants/tenant-registry.js';
import { UsageError } from '../../errors.js';

/**
 * The configuration of one tenant (its cloud, hosts and credentials) for a command about one of
 * its campaigns; a tenant no longer configured is a usage error naming the configured ones.
 */
export function tenantConfig(config: Config, tenant: string): Config {
  try {
    return tenantConfigOf(config, tenant);
  } catch (error) {
    if (error instanceof UnknownTenantError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
