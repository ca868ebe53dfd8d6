import type { AuthenticationResult } from '@azure/msal-node';
import type { DelegatedClient } from './delegated-client.js';
import { explainSignInError } from './delegated-errors.js';
import { TokenError } from './token-error.js';

/** What the user must do: open `verificationUri`, enter `userCode`. Entra's own wording in `message`. */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  expiresInSec: number;
  message: string;
}

/** Who signed in, and until when the first access token is good (no token material). */
export interface SignedIn {
  tenant: string;
  username: string;
  expiresOn: string | undefined;
  scopes: string[];
}

/**
 * The device-code flow: asks Entra for a code, shows it through `onPrompt`, and waits while MSAL
 * polls until the user has signed in elsewhere (or the code expires). Other accounts in the cache
 * are removed first: one sign-in per tenant, so workers never pick the wrong person.
 */
export async function loginWithDeviceCode(
  client: DelegatedClient,
  onPrompt: (prompt: DeviceCodePrompt) => void,
  options: { timeoutSec?: number } = {},
): Promise<SignedIn> {
  let result: AuthenticationResult | null;
  try {
    result = await client.app.acquireTokenByDeviceCode({
      scopes: client.scopes,
      deviceCodeCallback: (response) => {
        onPrompt({
          userCode: response.userCode,
          verificationUri: response.verificationUri,
          expiresInSec: response.expiresIn,
          message: response.message,
        });
      },
      ...(options.timeoutSec === undefined ? {} : { timeout: options.timeoutSec }),
    });
  } catch (error) {
    throw explainSignInError(error);
  }
  if (!result?.account) {
    throw new TokenError('sign_in_failed', 'Entra answered the sign-in without an account');
  }
  const signedIn = result.account;
  const cache = client.app.getTokenCache();
  for (const other of await cache.getAllAccounts()) {
    if (other.homeAccountId !== signedIn.homeAccountId) await cache.removeAccount(other);
  }
  return {
    tenant: client.tenant,
    username: signedIn.username,
    expiresOn: result.expiresOn?.toISOString(),
    scopes: result.scopes,
  };
}

/** Removes every account of this tenant's cache; returns the usernames signed out. */
export async function logout(client: DelegatedClient): Promise<string[]> {
  const cache = client.app.getTokenCache();
  const accounts = await cache.getAllAccounts();
  for (const account of accounts) await cache.removeAccount(account);
  return accounts.map((a) => a.username);
}
