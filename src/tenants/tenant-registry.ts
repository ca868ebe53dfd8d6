import { DEFAULT_TENANT } from '../campaigns/campaign.js';
import type { Cloud, Config, TenantEntry } from '../config/schema.js';
import type { CallGate } from '../defender/call-gate.js';
import type { DefenderClient } from '../defender/client.js';
import { budgetIdFor, type ScanLimiter } from '../limiter/scan-limiter.js';
import type { CallStats } from '../metrics/call-stats.js';
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
  /** Tenant names in configuration order (`default` first when it is configured). */
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
    super(
      known.length > 0
        ? `Unknown tenant "${tenant}"; configured tenants: ${known.join(', ')}`
        : `Unknown tenant "${tenant}"; no tenant is configured`,
    );
    this.tenant = tenant;
  }
}

/** Builds the budget one API identity names (`limiterFromConfig` in src/runtime). */
export type LimiterFactory = (config: Config, redis: Redis, log: Logger) => ScanLimiter;

/** Builds a tenant's Defender client (`clientFromConfig` in src/runtime). */
export type ClientFactory = (
  config: Config,
  deps: { gate: CallGate; callStats: CallStats; log: Logger; tenant?: string },
) => DefenderClient;

export interface TenantRegistryDeps {
  redis: Redis;
  callStats: CallStats;
  log: Logger;
  /** Passed in by the composition root, which knows how budgets are built from config. */
  limiterFromConfig: LimiterFactory;
  /**
   * Without it the registry serves budgets only and `client()` throws: a CLI session that shows
   * or steers campaigns then loads no HTTP or token client at start.
   */
  clientFromConfig?: ClientFactory;
}

/**
 * The tenants of this configuration: `default` (the MDE_* variables of the single-tenant setup)
 * when it has credentials or when no other tenant is configured, then the `tenants:` list.
 * Tenants with one API identity (cloud + tenant + app) share one limiter, so one budget.
 */
export function createTenantRegistry(config: Config, deps: TenantRegistryDeps): TenantRegistry {
  const limiters = new Map<string, ScanLimiter>();
  const clients: DefenderClient[] = [];

  const build = (name: string, tenantConfig: Config): TenantRuntime => {
    const budgetId = budgetIdFor(tenantConfig);
    let limiter = limiters.get(budgetId);
    if (!limiter) {
      limiter = deps.limiterFromConfig(tenantConfig, deps.redis, deps.log.child({ tenant: name }));
      limiters.set(budgetId, limiter);
    }
    const gate = limiter;
    let client: DefenderClient | undefined;
    return {
      name,
      cloud: tenantConfig.defender.cloud,
      budgetId,
      limiter: gate,
      client() {
        if (!client) {
          if (!deps.clientFromConfig)
            throw new Error(`tenant ${name}: this registry was built without Defender clients`);
          client = deps.clientFromConfig(tenantConfig, {
            gate,
            callStats: deps.callStats,
            log: deps.log.child({ tenant: name }),
            tenant: name,
          });
          clients.push(client);
        }
        return client;
      },
    };
  };

  const tenants: TenantRuntime[] = [];
  if (config.tenants.length === 0 || hasDefaultCredentials(config)) {
    tenants.push(build(DEFAULT_TENANT, config));
  }
  for (const entry of config.tenants) tenants.push(build(entry.name, configFor(config, entry)));

  const byName = new Map(tenants.map((tenant) => [tenant.name, tenant]));
  const names = tenants.map((tenant) => tenant.name);
  return {
    names,
    get(name) {
      const tenant = byName.get(name);
      if (!tenant) throw new UnknownTenantError(name, names);
      return tenant;
    },
    list: () => tenants,
    close() {
      for (const client of clients) client.close();
    },
  };
}

/** Whether the MDE_* variables (the tenant `default`) carry credentials. */
export function hasDefaultCredentials(config: Config): boolean {
  const { tenantId, clientId, accessToken } = config.defender;
  return accessToken !== undefined || (tenantId !== undefined && clientId !== undefined);
}

/** The configuration as one listed tenant sees it: its own `defender` section, the rest shared. */
export function configFor(config: Config, entry: TenantEntry): Config {
  return {
    ...config,
    defender: {
      ...config.defender,
      cloud: entry.cloud,
      apiUrl: entry.apiUrl,
      authorityHost: entry.authorityHost,
      tokenScope: entry.tokenScope,
      tenantId: entry.tenantId,
      clientId: entry.clientId,
      clientSecret: entry.secrets.clientSecret,
      certificatePath: entry.certificatePath,
      certificatePassword: entry.secrets.certificatePassword,
      accessToken: entry.secrets.accessToken,
    },
  };
}

/**
 * The configuration one tenant's clients are built from: the whole configuration for `default`,
 * `configFor` its entry for a listed tenant. Throws UnknownTenantError for any other name.
 */
export function tenantConfigOf(config: Config, name: string): Config {
  if (name === DEFAULT_TENANT) return config;
  const entry = config.tenants.find((t) => t.name === name);
  if (!entry) {
    const known = [
      ...(config.tenants.length === 0 || hasDefaultCredentials(config) ? [DEFAULT_TENANT] : []),
      ...config.tenants.map((t) => t.name),
    ];
    throw new UnknownTenantError(name, known);
  }
  return configFor(config, entry);
}
