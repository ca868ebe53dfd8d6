import { AuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { toTokenError } from './msal-errors.js';
import { TokenError } from './token-error.js';

/** The command that fixes a missing or revoked sign-in of `tenant`. */
export function loginCommand(tenant: string): string {
  return tenant === 'default' ? 'fleetscan login' : `fleetscan login --tenant ${tenant}`;
}

/**
 * No usable sign-in for a tenant: nobody ran `fleetscan login`, they logged out, or the refresh
 * token expired or was revoked. Not transient and not about any device: whoever holds a tenant's
 * work must hold all of it (block the tenant) until someone signs in again, never fail devices.
 */
export class SignInRequiredError extends TokenError {
  override name = 'SignInRequiredError';
  readonly tenant: string;
  readonly reason: 'not-signed-in' | 'refresh-token-rejected';
  constructor(tenant: string, reason: SignInRequiredError['reason'], options?: ErrorOptions) {
    super(
      'sign_in_required',
      `Tenant ${tenant}: ${
        reason === 'not-signed-in'
          ? 'nobody is signed in (or the sign-in was removed)'
          : 'the sign-in expired or was revoked (refresh token refused)'
      }; run ${loginCommand(tenant)}`,
      { ...options, transient: false },
    );
    this.tenant = tenant;
    this.reason = reason;
  }
}

/** The text of an MSAL error that names Entra's answer (error code, AADSTS description). */
function entraText(error: AuthError): string {
  return `${error.errorCode} ${error.errorMessage}`;
}

/**
 * Whether Entra refused a refresh token: `invalid_grant`, or MSAL's own verdict that the user
 * must sign in again (no refresh token in the cache, `interaction_required`, `bad_token`).
 */
export function isRefreshRejected(error: unknown): boolean {
  if (error instanceof InteractionRequiredAuthError) return true;
  return error instanceof ServerError && /invalid_grant/.test(entraText(error));
}

/**
 * Turns a failed device-code sign-in into a TokenError that says what to do. AADSTS7000218 means
 * the app registration treats fleetscan as a confidential client: Entra wants a secret because
 * "Allow public client flows" is off.
 */
export function explainSignInError(error: unknown): TokenError {
  if (error instanceof AuthError) {
    const text = entraText(error);
    if (/7000218/.test(text) || /invalid_client/.test(text)) {
      return new TokenError(
        'public_client_flows_disabled',
        'Entra refused the device-code sign-in (AADSTS7000218): the app registration does not ' +
          'allow public client flows. In the Entra admin center open the app registration → ' +
          'Authentication → Advanced settings and set "Allow public client flows" to Yes.',
        { cause: error },
      );
    }
    if (/expired_token|device_code_expired|70020/.test(text)) {
      return new TokenError(
        'device_code_expired',
        'The code was not entered in time; run fleetscan login again.',
        { cause: error },
      );
    }
  }
  return toTokenError(error);
}
