import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, signHs256, verifyHs256 } from './jwt.js';

/** Who a valid bearer token speaks for. */
export interface TokenIdentity {
  appId: string;
  tenantId: string;
  /** Application permissions (`roles`) of an app token; empty for a delegated one. */
  roles: readonly string[];
  /** Delegated permissions (`scp`, space-separated in the token); empty for an app token. */
  scopes: readonly string[];
  /** The signed-in user (`upn`) of a delegated token; undefined for an app token. */
  user: string | undefined;
}

/** What a delegated (user) token carries besides the app: who, which scopes, which directory roles. */
export interface DelegatedClaims {
  user: string;
  userObjectId: string;
  scopes: readonly string[];
  wids: readonly string[];
}

export type TokenCheck =
  | { ok: true; identity: TokenIdentity }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' | 'expired' };

/** Application permissions the simulated app holds (roles claim, as Entra issues it). */
export const APP_ROLES = [
  'Machine.Scan',
  'Machine.Read.All',
  'Machine.ReadWrite.All',
  'ThreatHunting.Read.All',
  'SecurityIncident.Read.All',
  'SecurityAlert.Read.All',
] as const;

/**
 * Issues and checks the simulator's access tokens: HS256 JWTs signed with a key that lives only
 * in this process, so a token from anywhere else (or a tampered one) is refused.
 */
export class AccessTokens {
  private readonly key = randomBytes(32);
  private readonly now: () => number;
  private readonly tenantId: string;
  private readonly audiences: ReadonlySet<string>;
  private readonly appRoles: readonly string[];

  /**
   * `audiences`: the resources a token must be for (`aud`); a Graph token is no MDE token.
   * `appRoles`: the application permissions an app token carries (default: all of APP_ROLES).
   */
  constructor(
    now: () => number,
    tenantId: string,
    audiences: readonly string[],
    appRoles: readonly string[] = APP_ROLES,
  ) {
    this.now = now;
    this.tenantId = tenantId;
    this.audiences = new Set(audiences);
    this.appRoles = appRoles;
  }

  /** An app token; a delegated one when `delegated` names the user (Entra's v1 claim shapes). */
  issue(appId: string, resource: string, lifetimeSec: number, delegated?: DelegatedClaims): string {
    const iat = Math.floor(this.now() / 1000);
    // Entra leaves `roles` out of a token for an app granted none; `scp` is only in user tokens.
    const who = delegated
      ? {
          idtyp: 'user',
          oid: delegated.userObjectId,
          sub: delegated.userObjectId,
          upn: delegated.user,
          scp: delegated.scopes.join(' '),
          ...(delegated.wids.length > 0 ? { wids: [...delegated.wids] } : {}),
        }
      : {
          idtyp: 'app',
          oid: appId,
          sub: appId,
          ...(this.appRoles.length > 0 ? { roles: [...this.appRoles] } : {}),
        };
    return signHs256(
      {
        aud: resource,
        iss: `https://sts.windows.net/${this.tenantId}/`,
        iat,
        nbf: iat,
        exp: iat + lifetimeSec,
        appid: appId,
        azp: appId,
        ...who,
        tid: this.tenantId,
        // Unique per token, as Entra's own `uti`: two tokens are never byte-identical.
        uti: randomUUID(),
        ver: '1.0',
      },
      this.key,
    );
  }

  /**
   * Checks an `Authorization` header value: scheme, signature, tenant, audience and expiry.
   * `audiences`: another API's resources (Graph) instead of the Defender API's.
   */
  check(authorization: string | undefined, audiences?: ReadonlySet<string>): TokenCheck {
    if (!authorization) return { ok: false, reason: 'missing' };
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    const jwt = decodeJwt(match[1]);
    if (!jwt) return { ok: false, reason: 'malformed' };
    if (!verifyHs256(jwt, this.key)) return { ok: false, reason: 'invalid' };
    const { appid, tid, exp, nbf, aud, roles, scp, upn } = jwt.payload;
    if (
      typeof appid !== 'string' ||
      tid !== this.tenantId ||
      typeof exp !== 'number' ||
      typeof aud !== 'string' ||
      !(audiences ?? this.audiences).has(aud)
    ) {
      return { ok: false, reason: 'invalid' };
    }
    const nowSec = this.now() / 1000;
    if (typeof nbf === 'number' && nbf > nowSec + 300) return { ok: false, reason: 'invalid' };
    if (exp <= nowSec) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      identity: {
        appId: appid,
        tenantId: tid,
        roles: Array.isArray(roles) ? roles.filter((r) => typeof r === 'string') : [],
        scopes: typeof scp === 'string' ? scp.split(' ').filter((x) => x !== '') : [],
        user: typeof upn === 'string' ? upn : undefined,
      },
    };
  }
}
