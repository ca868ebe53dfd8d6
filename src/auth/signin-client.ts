import {
  ConfidentialClientApplication,
  CryptoProvider,
  type INetworkModule,
} from '@azure/msal-node';
import type { EntraSignInConfig } from '../config/signin-schema.js';
import type { Logger } from '../shared/logger.js';
import { loadClientCertificate } from './certificate.js';
import { msalLoggerOptions } from './msal-logger.js';

/** The OpenID scopes a sign-in asks for: who the person is, nothing from any API. */
const SIGN_IN_SCOPES = ['openid', 'profile'];

/** One sign-in in flight: what goes to Entra and what the callback must check it against. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  challenge: string;
}

/** The web app's side of Entra's authorization code flow with PKCE (a confidential client). */
export interface SignInClient {
  /** The issuer ID tokens must name: `<authority>/v2.0`. */
  issuer: string;
  clientId: string;
  tenantId: string;
  /** Where Entra publishes the keys ID tokens are signed with. */
  jwksUri: string;
  /** Entra's sign-out page (the dashboard's own session is ended before going there). */
  logoutUrl(postLogoutRedirectUri: string): string;
  /** Fresh state, nonce and PKCE pair for one sign-in. */
  newSignIn(): Promise<PendingSignIn>;
  /** The URL of Entra's sign-in page for this sign-in. */
  authUrl(pending: PendingSignIn): Promise<string>;
  /**
   * Redeems the code with the verifier; MSAL compares `state` and the ID token's nonce. Returns
   * the raw ID token, whose signature and claims the caller still checks (MSAL does not).
   */
  redeem(code: string, pending: PendingSignIn, returnedState: string): Promise<string>;
}

export interface SignInClientSettings {
  entra: EntraSignInConfig;
  /** `defender.authorityHost` (the cloud's login host) when `entra.authorityHost` is null. */
  defaultAuthorityHost: string;
  /** MSAL's HTTP client; default its own (tests pass one that trusts the simulator's CA). */
  networkClient?: INetworkModule | undefined;
}

/**
 * Builds the confidential client of `dashboard.entra`: its secret, or its certificate (read
 * once, now, so a bad file fails at start). Throws when tenant, client or redirect URI is
 * missing, which the config schema already refuses for `dashboard.auth: entra`.
 */
export function createSignInClient(settings: SignInClientSettings, log: Logger): SignInClient {
  const { entra } = settings;
  const { tenantId, clientId, redirectUri } = entra;
  if (!tenantId || !clientId || !redirectUri) {
    throw new Error('dashboard.entra needs tenantId, clientId and redirectUri');
  }
  const host = (entra.authorityHost ?? settings.defaultAuthorityHost).replace(/\/+$/, '');
  const authority = `${host}/${encodeURIComponent(tenantId)}`;
  const custom = entra.authorityHost !== null || !/login\.microsoftonline\./.test(host);
  const certificate = entra.certificatePath
    ? loadClientCertificate(entra.certificatePath, entra.secrets.certificatePassword)
    : undefined;
  const app = new ConfidentialClientApplication({
    auth: {
      clientId,
      authority,
      // A login host from configuration (simulator, proxy) is trusted as given.
      ...(custom ? { knownAuthorities: [new URL(host).host] } : {}),
      ...(certificate
        ? {
            clientCertificate: {
              thumbprintSha256: certificate.thumbprintSha256,
              privateKey: certificate.privateKey,
              x5c: certificate.x5c,
            },
          }
        : { clientSecret: entra.secrets.clientSecret ?? '' }),
    },
    system: {
      loggerOptions: msalLoggerOptions(log.child({ component: 'signin' })),
      ...(settings.networkClient ? { networkClient: settings.networkClient } : {}),
    },
  });
  const crypto = new CryptoProvider();
  return {
    issuer: `${authority}/v2.0`,
    clientId,
    tenantId,
    jwksUri: `${authority}/discovery/v2.0/keys`,
    logoutUrl: (back) =>
      `${authority}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(back)}`,
    async newSignIn() {
      const { verifier, challenge } = await crypto.generatePkceCodes();
      return { state: crypto.createNewGuid(), nonce: crypto.createNewGuid(), verifier, challenge };
    },
    authUrl: (pending) =>
      app.getAuthCodeUrl({
        scopes: SIGN_IN_SCOPES,
        redirectUri,
        responseMode: 'query',
        state: pending.state,
        nonce: pending.nonce,
        codeChallenge: pending.challenge,
        codeChallengeMethod: 'S256',
      }),
    async redeem(code, pending, returnedState) {
      const result = await app.acquireTokenByCode(
        {
          code,
          scopes: SIGN_IN_SCOPES,
          redirectUri,
          codeVerifier: pending.verifier,
          state: pending.state,
          nonce: pending.nonce,
        },
        { code, state: returnedState, nonce: pending.nonce },
      );
      // MSAL keeps what it redeems in its cache; the dashboard keeps only its own session.
      for (const account of await app.getTokenCache().getAllAccounts()) {
        await app.getTokenCache().removeAccount(account);
      }
      return result.idToken;
    },
  };
}
