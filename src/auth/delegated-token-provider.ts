import { AuthError } from '@azure/msal-node';
import type { Logger } from '../shared/logger.js';
import type { DelegatedClient } from './delegated-client.js';
import { isRefreshRejected, SignInRequiredError } from './delegated-errors.js';
import { toTokenError } from './msal-errors.js';
import { TokenError } from './token-error.js';
import { withTokenTimeout } from './token-timeout.js';
import type { GetTokenOptions } from './token-provider.js';

/** Bearer tokens of a signed-in user; the same shape as the app-only TokenProvider. */
export interface DelegatedTokenProvider {
  getToken(options?: GetTokenOptions): Promise<string>;
  readonly kind: 'delegated';
}

/**
 * Tokens from the shared cache `fleetscan login` filled: `acquireTokenSilent` hands out the
 * cached access token and, near its expiry, redeems the refresh token (and writes the new ones
 * back for the other processes). A cache without an account, or a refresh token Entra refuses,
 * is a SignInRequiredError for the whole tenant, never a device's failure.
 */
export function createDelegatedTokenProvider(
  client: DelegatedClient,
  deps: { log: Logger; timeoutMs: number; onRefresh?: () => void },
): DelegatedTokenProvider {
  const log = deps.log.child({ component: 'tokens', auth: 'delegated', tenant: client.tenant });
  const fetchToken = async (forceRefresh: boolean): Promise<string> => {
    const account = await client.account();
    if (!account) throw new SignInRequiredError(client.tenant, 'not-signed-in');
    let result;
    try {
      result = await withTokenTimeout(
        client.app.acquireTokenSilent({ account, scopes: client.scopes, forceRefresh }),
        deps.timeoutMs,
        `No answer from Entra within ${String(deps.timeoutMs)} ms`,
      );
    } catch (error) {
      if (isRefreshRejected(error)) {
        // MSAL's `no_tokens_found`: the account's tokens were removed (`fleetscan logout` in
        // another process) rather than refused by Entra.
        const reason =
          error instanceof AuthError && error.errorCode === 'no_tokens_found'
            ? 'not-signed-in'
            : 'refresh-token-rejected';
        log.warn({ tenant: client.tenant, reason }, 'no usable sign-in: run fleetscan login');
        throw new SignInRequiredError(client.tenant, reason, { cause: error });
      }
      throw toTokenError(error);
    }
    if (!result.accessToken) {
      throw new TokenError('token_missing', 'Entra answered without an access token', {
        transient: true,
      });
    }
    if (!result.fromCache) {
      log.info({ expiresOn: result.expiresOn?.toISOString(), forceRefresh }, 'token refreshed');
      deps.onRefresh?.();
    }
    return result.accessToken;
  };
  const inflight = new Map<boolean, Promise<string>>();
  return {
    kind: 'delegated',
    getToken(options = {}) {
      const force = options.forceRefresh ?? false;
      const pending = inflight.get(true) ?? inflight.get(force);
      if (pending) return pending;
      const request = fetchToken(force).finally(() => inflight.delete(force));
      inflight.set(force, request);
      return request;
    },
  };
}
