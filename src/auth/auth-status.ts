import type { Logger } from '../shared/logger.js';
import { createDelegatedClient } from './delegated-client.js';
import { readTokenClaims } from './token-claims.js';
import { tenantTokenProvider } from './tenant-token-provider.js';
import type { TenantAuthSettings } from './tenant-auth.js';

/** What `fleetscan auth status` reports for one tenant; never any token or secret. */
export interface AuthStatus {
  tenant: string;
  mode: 'app' | 'delegated';
  /** secret, certificate, static or delegated, once a provider could be built. */
  credential: string | undefined;
  /** Delegated: the token cache file and who is signed in. */
  cachePath: string | undefined;
  user: string | undefined;
  ok: boolean;
  expiresOn: string | undefined;
  permissions: string[];
  /** Why no token could be had. */
  problem: string | undefined;
}

/** Obtains one token for the tenant (silently: from the cache or a refresh) and describes it. */
export async function authStatus(tenant: TenantAuthSettings, log: Logger): Promise<AuthStatus> {
  const mode = tenant.defender.auth;
  const status: AuthStatus = {
    tenant: tenant.name,
    mode,
    credential: undefined,
    cachePath: mode === 'delegated' ? tenant.cachePath : undefined,
    user: undefined,
    ok: false,
    expiresOn: undefined,
    permissions: [],
    problem: undefined,
  };
  try {
    if (mode === 'delegated') {
      status.user = (await createDelegatedClient(tenant, log).account())?.username;
    }
    const tokens = tenantTokenProvider(tenant, { log, retries: 0 });
    status.credential = tokens.kind;
    const claims = readTokenClaims(await tokens.getToken());
    status.ok = true;
    if (claims) {
      status.expiresOn =
        claims.expiresAt === undefined ? undefined : new Date(claims.expiresAt).toISOString();
      status.permissions = claims.kind === 'delegated' ? claims.scopes : claims.roles;
      status.user ??= claims.user;
    }
  } catch (error) {
    status.problem = error instanceof Error ? error.message : String(error);
  }
  return status;
}

/** The human lines of an AuthStatus, `gh auth status` style. */
export function renderAuthStatus(status: AuthStatus): string {
  const lines = [
    `Tenant ${status.tenant} (${status.mode === 'delegated' ? 'delegated: signed-in user' : 'app credentials'})`,
  ];
  if (status.credential) lines.push(`  credential: ${status.credential}`);
  if (status.cachePath) lines.push(`  token cache: ${status.cachePath} (plaintext, mode 0600)`);
  if (status.mode === 'delegated') lines.push(`  signed in as: ${status.user ?? 'nobody'}`);
  if (status.ok) {
    lines.push(`  ✔ token valid${status.expiresOn ? ` until ${status.expiresOn}` : ''}`);
    lines.push(
      `  permissions: ${status.permissions.length > 0 ? status.permissions.join(', ') : 'none'}`,
    );
  } else {
    lines.push(`  ✖ no token: ${status.problem ?? 'unknown reason'}`);
  }
  return `${lines.join('\n')}\n`;
}
