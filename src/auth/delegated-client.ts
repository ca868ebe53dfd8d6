import { LogLevel, PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import { ConfigError } from '../config/load.js';
import type { Logger } from '../shared/logger.js';
import { resolveCloud } from './clouds.js';
import { createFileTokenCache } from './file-token-cache.js';
import type { TenantAuthSettings } from './tenant-auth.js';

/** MSAL's public client for one tenant, its persistent cache, and what to ask tokens for. */
export interface DelegatedClient {
  tenant: string;
  app: PublicClientApplication;
  /** The Defender API resource's `.default` scope for this cloud. */
  scopes: string[];
  cachePath: string;
  /** The signed-in account, read from the shared cache (another process may have changed it). */
  account(): Promise<AccountInfo | undefined>;
}

/**
 * Builds the public client for delegated sign-in. Needs the tenant and the app registration's
 * client id (no secret: a public client proves nothing about itself; the user signs in).
 */
export function createDelegatedClient(tenant: TenantAuthSettings, log: Logger): DelegatedClient {
  const { tenantId, clientId } = tenant.defender;
  if (!tenantId || !clientId) {
    throw new ConfigError([
      ...(tenantId
        ? []
        : [{ path: 'defender.tenantId', source: 'MDE_TENANT_ID', message: 'Required to sign in' }]),
      ...(clientId
        ? []
        : [{ path: 'defender.clientId', source: 'MDE_CLIENT_ID', message: 'Required to sign in' }]),
    ]);
  }
  const cloud = resolveCloud(tenant.defender);
  const childLog = log.child({ component: 'delegated-auth', tenant: tenant.name });
  const cache = createFileTokenCache({ path: tenant.cachePath, log: childLog });
  const app = new PublicClientApplication({
    auth: {
      clientId,
      authority: cloud.authority ?? `${cloud.authorityHost}/${tenantId}`,
      ...(cloud.customAuthorityHost
        ? { knownAuthorities: [new URL(cloud.authorityHost).host] }
        : {}),
    },
    cache: { cachePlugin: cache },
    system: {
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Error) childLog.error({ msal: message }, 'msal');
          else childLog.warn({ msal: message }, 'msal');
        },
      },
    },
  });
  return {
    tenant: tenant.name,
    app,
    scopes: [cloud.scope],
    cachePath: cache.path,
    async account() {
      const accounts = await app.getTokenCache().getAllAccounts();
      // One sign-in per tenant: `login` removes other accounts, so the first is the one.
      return accounts.find((a) => a.tenantId === tenantId) ?? accounts[0];
    },
  };
}
