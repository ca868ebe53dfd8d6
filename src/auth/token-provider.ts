import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import pRetry from 'p-retry';
import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';
import { assertAuthConfigured, type AuthMode } from './auth-config.js';
import { loadClientCertificate } from './certificate.js';
import { resolveCloud } from './clouds.js';
import { toTokenError } from './msal-errors.js';
import { msalLoggerOptions } from './msal-logger.js';
import { TokenError } from './token-error.js';
import { reusable, type HeldToken } from './token-reuse.js';
import { withTokenTimeout } from './token-timeout.js';

export interface GetTokenOptions {
  /** Skip the cache and ask Entra for a new token (after the API answered 401). */
  forceRefresh?: boolean;
}

/** Bearer tokens for the Defender API. */
export interface TokenProvider {
  getToken(options?: GetTokenOptions): Promise<string>;
  /** `delegated`: a signed-in user's tokens (`createDelegatedTokenProvider`). */
  readonly kind: 'secret' | 'certificate' | 'static' | 'delegated';
}

export interface TokenProviderDeps {
  log: Logger;
  /** Called each time a token came from Entra rather than the cache (counted for /metrics). */
  onRefresh?: () => void;
  /** Retries of transient token-endpoint failures (default 3) and their first delay (200 ms). */
  retries?: number;
  retryMinTimeoutMs?: number;
  /** Clock for token reuse (tests). */
  now?: () => number;
}

/**
 * Builds the token provider the configuration asks for: a static `MDE_ACCESS_TOKEN`, or MSAL
 * client credentials with a secret or a certificate. Throws ConfigError when auth settings are
 * missing and TokenError when the certificate cannot be used, both before any network call.
 */
export function createTokenProvider(
  config: { readonly defender: Config['defender'] },
  deps: TokenProviderDeps,
): TokenProvider {
  const mode = assertAuthConfigured(config.defender);
  if (mode.kind === 'static') return staticTokenProvider(mode.accessToken);
  const cloud = resolveCloud(config.defender);
  const log = deps.log.child({ component: 'tokens', auth: mode.kind, cloud: cloud.cloud });
  const app = new ConfidentialClientApplication(msalConfiguration(mode, cloud, log));
  const scopes = [cloud.scope];

  const now = deps.now ?? Date.now;
  let held: HeldToken | undefined;
  const fetchToken = async (forceRefresh: boolean): Promise<string> => {
    const acquiredAt = now();
    const result = await pRetry(
      async () => {
        try {
          // MSAL's fetch has no timeout of its own: a hung endpoint must not hang every worker.
          const ms = config.defender.requestTimeout;
          return await withTokenTimeout(
            app.acquireTokenByClientCredential({ scopes, skipCache: forceRefresh }),
            ms,
            `No answer from Entra within ${String(ms)} ms`,
          );
        } catch (error) {
          throw toTokenError(error);
        }
      },
      {
        retries: deps.retries ?? 3,
        minTimeout: deps.retryMinTimeoutMs ?? 200,
        maxTimeout: 5_000,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof TokenError && error.transient,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          const code = error instanceof TokenError ? error.code : error.name;
          log.warn({ code, attemptNumber, retriesLeft }, 'token request failed');
        },
      },
    );
    if (!result?.accessToken) {
      throw new TokenError('token_missing', 'Entra answered without an access token', {
        transient: true,
      });
    }
    if (!result.fromCache) {
      log.debug({ expiresOn: result.expiresOn?.toISOString(), forceRefresh }, 'token acquired');
      deps.onRefresh?.();
    }
    held = {
      token: result.accessToken,
      acquiredAt,
      // Without an expiry MSAL would have no reason to keep it either: use it for this call only.
      expiresOn: result.expiresOn?.getTime() ?? acquiredAt,
    };
    return result.accessToken;
  };

  // Concurrent callers share one request: a cold start or a burst of 401s asks Entra once.
  const inflight = new Map<boolean, Promise<string>>();
  return {
    kind: mode.kind,
    getToken(options = {}) {
      const force = options.forceRefresh ?? false;
      const ready = force ? undefined : reusable(held, now());
      if (ready !== undefined) return Promise.resolve(ready);
      // A plain request made while a forced refresh runs waits for the fresh token: the cached
      // one is the token that was just refused.
      const pending = inflight.get(true) ?? inflight.get(force);
      if (pending) return pending;
      const request = fetchToken(force).finally(() => inflight.delete(force));
      inflight.set(force, request);
      return request;
    },
  };
}

/** A token handed over ready-made: used as is, and a refresh is impossible. */
export function staticTokenProvider(accessToken: string): TokenProvider {
  return {
    kind: 'static',
    getToken(options = {}) {
      if (options.forceRefresh) {
        return Promise.reject(
          new TokenError(
            'static_token',
            'MDE_ACCESS_TOKEN was rejected and cannot be refreshed; set a new one or use app credentials',
          ),
        );
      }
      return Promise.resolve(accessToken);
    },
  };
}

function msalConfiguration(
  mode: Exclude<AuthMode, { kind: 'static' }>,
  cloud: ReturnType<typeof resolveCloud>,
  log: Logger,
): Configuration {
  const credential =
    mode.kind === 'secret'
      ? { clientSecret: mode.clientSecret }
      : { clientCertificate: certificateCredential(mode, log) };
  return {
    auth: {
      clientId: mode.clientId,
      authority: cloud.authority ?? `${cloud.authorityHost}/${mode.tenantId}`,
      // A login host from configuration (simulator, proxy) is trusted as given: MSAL would
      // otherwise ask login.microsoftonline.com whether it knows it.
      ...(cloud.customAuthorityHost
        ? { knownAuthorities: [new URL(cloud.authorityHost).host] }
        : {}),
      ...credential,
    },
    system: {
      // p-retry above is the one retry layer (style habit 6).
      disableInternalRetries: true,
      loggerOptions: msalLoggerOptions(log),
    },
  };
}

function certificateCredential(mode: Extract<AuthMode, { kind: 'certificate' }>, log: Logger) {
  const certificate = loadClientCertificate(mode.certificatePath, mode.certificatePassword);
  log.info(
    { thumbprintSha1: certificate.thumbprintSha1, notAfter: certificate.notAfter },
    'using certificate credentials',
  );
  return {
    thumbprintSha256: certificate.thumbprintSha256,
    privateKey: certificate.privateKey,
    x5c: certificate.x5c,
  };
}
