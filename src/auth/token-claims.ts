/**
 * What a bearer token says about itself, read without verifying it (only Entra and the API can):
 * good for telling an operator what their token holds, never for trusting it. Holds no token.
 */
export interface TokenClaims {
  kind: 'app' | 'delegated' | 'unknown';
  /** Application permissions (`roles`). */
  roles: string[];
  /** Delegated permissions (`scp`). */
  scopes: string[];
  /** Directory role template ids of the user (`wids`). */
  directoryRoles: string[];
  user: string | undefined;
  audience: string | undefined;
  /** ms since the epoch, or undefined when the token has no `exp`. */
  expiresAt: number | undefined;
}

export function readTokenClaims(token: string): TokenClaims | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const scopes = typeof p['scp'] === 'string' ? p['scp'].split(' ').filter((s) => s !== '') : [];
  const user =
    typeof p['upn'] === 'string'
      ? p['upn']
      : typeof p['unique_name'] === 'string'
        ? p['unique_name']
        : undefined;
  return {
    kind:
      p['idtyp'] === 'user' || scopes.length > 0
        ? 'delegated'
        : p['idtyp'] === 'app' || Array.isArray(p['roles'])
          ? 'app'
          : 'unknown',
    roles: strings(p['roles']),
    scopes,
    directoryRoles: strings(p['wids']),
    user,
    audience: typeof p['aud'] === 'string' ? p['aud'] : undefined,
    expiresAt: typeof p['exp'] === 'number' ? p['exp'] * 1000 : undefined,
  };
}
