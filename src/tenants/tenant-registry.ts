import type { Cloud, Config } from '../config/schema.js';
import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import type { DefenderClient } from '../defender/client.js';
import { budgetIdFor, type ScanLimiter } from '../limiter/scan-limiter.js';
import { clientFromConfig, limiterFromConfig } from '../runtime/api-from-config.js';
import type { CallStats } from '../shared/call-stats.js';
import type { Logger } from '../shared/logger.js';
import type { Redis } from '../shared/redis.js';

/** One tenant as every process sees it: its API identity, its budget, its client. */
export interface TenantRuntime {
  readonly name: string;
  readonly cloud: Cloud;
  /** `cloud:tenantId:clientId`, lowercased: the API identity whose budget this tenant spends. */
  readonly budgetId: string;
  /** The budget of that identity; tenants sharing an identity share it. */
  readonly limiter: ScanLimiter;
  /** Built on first use; throws ConfigError when the tenant's credentials are not configured. */
  client(): DefenderClient;
}

export interface TenantRegistry {
  /** Tenant names in configuration order. */
  readonly names: readonly string[];
  /** Throws UnknownTenantError naming the known tenants. */
  get(name: string): TenantRuntime;
  /** Every tenant, in configuration order. */
  list(): readonly TenantRuntime[];
  /** Closes every client built so far. */
  close(): void;
}

/** A campaign or command named a tenant the configuration does not have. */
export class UnknownTenantError extends Error {
  override name = 'UnknownTenantError';
  readonly tenant: string;
  constructor(tenant: string, known: readonly string[]) {
    super(`Unknown tenant "${tenant}"; configured tenants: ${known.join(', ')}`);
    this.tenant = tenant;
  }
}

export interface TenantRegistryDeps {
  redis: Redis;
  callStats: CallStats;
  log: Logger;
}

/**
 * The tenants of this configuration. Today's single-tenant setup (the MDE_* environment
 * variables) is the tenant `default`.
 */
export function createTenantRegistry(config: Config, deps: TenantRegistryDeps): TenantRegistry {
  const limiter = limiterFromConfig(config, deps.redis, deps.log);
  let client: DefenderClient | undefined;
  const only: TenantRuntime = {
    name: DEFAULT_TENANT,
    cloud: config.defender.cloud,
    budgetId: budgetIdFor(config),
    limiter,
    client() {
      client ??= clientFromConfig(config, {
        gate: limiter,
        callStats: deps.callStats,
        log: deps.log.child({ tenant: DEFAULT_TENANT }),
      });
      return client;
    },
  };
  const names = [DEFAULT_TENANT] as const;
  return {
    names,
    get(name) {
      if (name !== DEFAULT_TENANT) throw new UnknownTenantError(name, names);
      return only;
    },
    list: () => [only],
    close() {
      client?.close();
    },
  };
}
