import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { base64UrlJson } from './jwt.js';
import type { SimUser } from './sim-users.js';

/**
 * Ways the simulator can spoil the ID tokens it issues, so a client's checks can be shown to
 * refuse them: an expired token, a signature by a key not in the JWKS, a nonce, audience or
 * issuer other than the one asked for.
 */
export const ID_TOKEN_FAULTS = [
  'expired',
  'bad-signature',
  'wrong-nonce',
  'wrong-audience',
  'wrong-issuer',
] as const;
export type IdTokenFault = (typeof ID_TOKEN_FAULTS)[number];

/** What `/authorize` was asked: kept until the user picks who they are. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string | null;
  nonce: string | null;
  codeChallenge: string;
}

/** An authorization code handed out and not yet redeemed. */
export interface IssuedCode {
  request: AuthorizeRequest;
  user: SimUser;
  expiresMs: number;
  redeemed: boolean;
}

/** How long a code may wait for redemption (Entra: about 10 minutes) and a flow for its user. */
const CODE_LIFETIME_MS = 10 * 60_000;
const FLOW_LIFETIME_MS = 30 * 60_000;

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    kid: createHash('sha256').update(der).digest('base64url').slice(0, 27),
    privateKey,
    publicKey,
  };
}

/**
 * The simulator's sign-in state for web apps (authorization code + PKCE): flows waiting for the
 * user, codes waiting for redemption, and the RS256 key the ID tokens are signed with (made on
 * first use, so simulators that never sign anyone in do not pay for an RSA key).
 */
export class SignInState {
  /** Set by tests (`sim.setIdTokenFault`): spoils every ID token until cleared. */
  fault: IdTokenFault | null = null;
  private key: SigningKey | undefined;
  private readonly flows = new Map<string, { request: AuthorizeRequest; expiresMs: number }>();
  private readonly codes = new Map<string, IssuedCode>();

  private signingKey(): SigningKey {
    this.key ??= newKey();
    return this.key;
  }

  startFlow(request: AuthorizeRequest, nowMs: number): string {
    const id = randomBytes(18).toString('base64url');
    this.flows.set(id, { request, expiresMs: nowMs + FLOW_LIFETIME_MS });
    return id;
  }

  /** The flow's request, once: a second post of the same page is refused. */
  takeFlow(id: string, nowMs: number): AuthorizeRequest | undefined {
    const flow = this.flows.get(id);
    this.flows.delete(id);
    return flow && flow.expiresMs > nowMs ? flow.request : undefined;
  }

  issueCode(request: AuthorizeRequest, user: SimUser, nowMs: number): string {
    const code = `sim-ac-${randomBytes(32).toString('base64url')}`;
    this.codes.set(code, { request, user, expiresMs: nowMs + CODE_LIFETIME_MS, redeemed: false });
    return code;
  }

  code(code: string): IssuedCode | undefined {
    return this.codes.get(code);
  }

  /** The public half of the signing key, as `discovery/v2.0/keys` serves it. */
  jwks(): { keys: Record<string, unknown>[] } {
    const { kid, publicKey } = this.signingKey();
    const jwk = publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e, alg: 'RS256' }] };
  }

  /** A compact RS256 JWT; with the `bad-signature` fault, signed by a key nobody publishes. */
  signIdToken(payload: Record<string, unknown>): string {
    const { kid, privateKey } = this.signingKey();
    const signer = this.fault === 'bad-signature' ? newKey().privateKey : privateKey;
    const input = `${base64UrlJson({ typ: 'JWT', alg: 'RS256', kid })}.${base64UrlJson(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), signer).toString('base64url')}`;
  }
}
