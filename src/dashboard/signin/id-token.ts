import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** Why a sign-in was refused; `message` is shown to the person, `code` goes to logs and audit. */
export class SignInRefused extends Error {
  override name = 'SignInRefused';
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

/** What the ID token must say, besides being signed by a key of the tenant. */
export interface IdTokenExpectations {
  issuer: string;
  audience: string;
  tenantId: string;
  nonce: string;
  nowMs: number;
  /** Clock difference tolerated on exp/nbf/iat (default 5 minutes, as MSAL's own checks). */
  skewMs?: number;
}

/** The public key for `kid` (refetching the JWKS when it is new), or undefined when unknown. */
export type KeyLookup = (kid: string) => Promise<KeyObject | undefined>;

function part(segment: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // answered below
  }
  throw new SignInRefused('bad_token', `The ID token's ${what} is not JSON.`);
}

const refuse = (code: string, message: string) => new SignInRefused(code, message);

/**
 * Checks an ID token as OpenID Connect Core 3.1.3.7 asks: an RS256 signature by a key in the
 * tenant's JWKS, then `iss`, `aud`, `tid`, `exp`, `nbf` and the `nonce` of this sign-in.
 * Returns the claims; throws `SignInRefused` naming the first check that failed.
 */
export async function verifyIdToken(
  token: string,
  expected: IdTokenExpectations,
  keyFor: KeyLookup,
): Promise<Record<string, unknown>> {
  const segments = token.split('.');
  if (segments.length !== 3) throw refuse('bad_token', 'The ID token is not a signed JWT.');
  const [h, p, s] = segments as [string, string, string];
  const header = part(h, 'header');
  if (header['alg'] !== 'RS256')
    throw refuse('bad_token', 'The ID token is not signed with RS256.');
  const kid = typeof header['kid'] === 'string' ? header['kid'] : '';
  const key = await keyFor(kid);
  if (!key)
    throw refuse('bad_signature', 'The ID token is signed by a key the tenant does not publish.');
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) {
    throw refuse('bad_signature', 'The ID token signature does not verify.');
  }
  const claims = part(p, 'payload');
  const skew = (expected.skewMs ?? 300_000) / 1000;
  const now = expected.nowMs / 1000;
  if (claims['iss'] !== expected.issuer) {
    throw refuse(
      'wrong_issuer',
      `The ID token was issued by ${String(claims['iss'])}, not ${expected.issuer}.`,
    );
  }
  const aud = claims['aud'];
  if (aud !== expected.audience && !(Array.isArray(aud) && aud.includes(expected.audience))) {
    throw refuse('wrong_audience', 'The ID token was issued for another application.');
  }
  if (claims['tid'] !== undefined && claims['tid'] !== expected.tenantId) {
    throw refuse('wrong_tenant', 'The ID token belongs to another tenant.');
  }
  if (typeof claims['exp'] !== 'number' || claims['exp'] + skew <= now) {
    throw refuse('expired', 'The ID token has expired.');
  }
  if (typeof claims['nbf'] === 'number' && claims['nbf'] - skew > now) {
    throw refuse('not_yet_valid', 'The ID token is not valid yet.');
  }
  if (claims['nonce'] !== expected.nonce) {
    throw refuse('wrong_nonce', 'The ID token does not answer this sign-in (nonce).');
  }
  return claims;
}

/**
 * Keys from a JWKS URL, cached; a `kid` not seen before fetches the set again (Entra rolls its
 * keys), at most once a minute so a stream of forged `kid`s cannot make us hammer Entra.
 */
export function createKeyLookup(
  jwksUri: string,
  fetchJson: (url: string) => Promise<unknown> = async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${url} answered ${String(response.status)}`);
    return response.json();
  },
  now: () => number = Date.now,
): KeyLookup {
  let keys = new Map<string, KeyObject>();
  let fetchedAt = -Infinity;
  const refresh = async () => {
    fetchedAt = now();
    const body = (await fetchJson(jwksUri)) as { keys?: unknown };
    const next = new Map<string, KeyObject>();
    for (const jwk of Array.isArray(body.keys) ? (body.keys as JsonWebKey[]) : []) {
      if (jwk.kty !== 'RSA' || typeof jwk['kid'] !== 'string') continue;
      next.set(jwk['kid'], createPublicKey({ key: jwk, format: 'jwk' }));
    }
    keys = next;
  };
  return async (kid) => {
    if (!keys.has(kid) && now() - fetchedAt >= 60_000) await refresh();
    return keys.get(kid);
  };
}
