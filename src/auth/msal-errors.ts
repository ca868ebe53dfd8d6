import { AuthError, ServerError } from '@azure/msal-node';
import { TokenError } from './token-error.js';

/**
 * MSAL error codes worth another try: no reply, an unreadable reply, or endpoint discovery that
 * failed on the way. Everything else (invalid_client, unauthorized_client, invalid_scope, a bad
 * authority…) stays wrong until an operator changes the configuration.
 */
const TRANSIENT_CODES = new Set([
  'network_error',
  'no_network_connectivity',
  'token_parsing_error',
  'endpoints_resolution_error',
  'openid_config_error',
  'temporarily_unavailable',
]);

/** Turns whatever MSAL threw into a TokenError that says whether to try again. */
export function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof AuthError) {
    const status = error instanceof ServerError ? error.status : undefined;
    const transient =
      TRANSIENT_CODES.has(error.errorCode) ||
      (status !== undefined && (status === 429 || status >= 500));
    // Entra's description (AADSTS…) helps operators and holds no secret; keep its first line.
    const description = error.errorMessage.split('\n')[0]?.trim();
    const code = error.errorCode || 'token_request_failed';
    return new TokenError(
      code,
      `Entra token request failed: ${code}${status ? ` (HTTP ${status})` : ''}${description ? `: ${description}` : ''}`,
      { cause: error, transient },
    );
  }
  return new TokenError('token_request_failed', 'Entra token request failed', {
    cause: error,
    transient: false,
  });
}
