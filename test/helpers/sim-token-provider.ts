import { TokenError } from '../../src/auth/token-error.js';
import type { TokenProvider } from '../../src/auth/token-provider.js';

export interface SimSecretTokens {
  /** The login host, read at every request (an outage points it at a closed port). */
  entraUrl(): string;
  tenantId: string;
  clientId: string;
  /** Fixed when built, as MSAL holds it: a fixed secret needs a new provider (a restarted worker). */
  clientSecret: string;
}

/**
 * Client-credentials tokens from the simulator's token endpoint over plain HTTP (MSAL refuses
 * an http authority), failing as the real provider does after its retries: Entra's `error` as a
 * TokenError, no answer as a transient `network_error`. Caches the token until forced.
 */
export function simSecretTokens(options: SimSecretTokens): TokenProvider {
  let held: string | undefined;
  const request = async (): Promise<string> => {
    let reply: Response;
    try {
      reply = await fetch(`${options.entraUrl()}/${options.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: options.clientId,
          client_secret: options.clientSecret,
          scope: 'https://api.securitycenter.microsoft.com/.default',
        }).toString(),
      });
    } catch (error) {
      throw new TokenError('network_error', 'Entra token request failed: network_error', {
        cause: error,
        transient: true,
      });
    }
    const body = (await reply.json()) as { access_token?: string; error?: string };
    if (!reply.ok || body.access_token === undefined) {
      const code = body.error ?? 'token_request_failed';
      throw new TokenError(code, `Entra token request failed: ${code} (HTTP ${reply.status})`);
    }
    return body.access_token;
  };
  return {
    kind: 'secret',
    async getToken(getOptions = {}) {
      if (held === undefined || getOptions.forceRefresh === true) held = await request();
      return held;
    },
  };
}
