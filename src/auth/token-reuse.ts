/** A bearer token and when it stops being accepted. */
export interface HeldToken {
  token: string;
  acquiredAt: number;
  expiresOn: number;
}

/** The renewal margin MSAL keeps for ordinary (about one hour) tokens. */
const MAX_MARGIN_MS = 300_000;

/**
 * When to ask for a new token: a quarter of the token's life before it expires, at most five
 * minutes before. MSAL alone renews any token that has less than five minutes left, so a token
 * issued for less than that would be fetched again for nearly every call; this keeps it to one
 * request per token lifetime, whatever the lifetime.
 */
export function renewAt(held: HeldToken): number {
  const lifetime = Math.max(0, held.expiresOn - held.acquiredAt);
  return held.expiresOn - Math.min(MAX_MARGIN_MS, lifetime / 4);
}

/** The token to use now without asking Entra, or undefined when it is time to renew. */
export function reusable(held: HeldToken | undefined, now: number): string | undefined {
  return held !== undefined && now < renewAt(held) ? held.token : undefined;
}
