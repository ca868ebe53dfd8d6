import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { baseUrl, type OAuthError } from './entra-reply.js';
import type { SimContext } from './sim-context.js';
import type { SimUser } from './sim-users.js';
import type { IssuedCode } from './signin-state.js';
import { checkClientAuth } from './token-request.js';

/** Above this many groups Entra leaves `groups` out of a JWT and says where to ask instead. */
export const GROUPS_CLAIM_LIMIT = 200;

function invalidGrant(aadsts: string): OAuthError {
  return { status: 400, error: 'invalid_grant', aadsts };
}

/** The group claims of a user: the list, or Entra's overage indicator above the limit. */
function groupClaims(user: SimUser): Record<string, unknown> {
  if (user.groups.length === 0) return {};
  if (user.groups.length <= GROUPS_CLAIM_LIMIT) return { groups: [...user.groups] };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: {
      src1: {
        endpoint: `https://graph.microsoft.com/v1.0/users/${user.objectId}/getMemberObjects`,
      },
    },
  };
}

/** The ID token of a redeemed code, spoiled as `ctx.signIn.fault` asks. */
function idToken(ctx: SimContext, request: FastifyRequest, issued: IssuedCode): string {
  const { user } = issued;
  const fault = ctx.signIn.fault;
  const iat = Math.floor(ctx.now() / 1000) - (fault === 'expired' ? 7_200 : 0);
  const tenant =
    fault === 'wrong-issuer' ? '00000000-0000-4000-8000-0000000000ff' : ctx.opts.tenantId;
  const nonce = issued.request.nonce;
  return ctx.signIn.signIdToken({
    aud: fault === 'wrong-audience' ? '00000000-0000-4000-8000-00000000a0d1' : ctx.opts.clientId,
    iss: `${baseUrl(request)}/${tenant}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + 3_600,
    name: user.displayName,
    oid: user.objectId,
    preferred_username: user.username,
    sub: createHash('sha256').update(`${user.objectId}:${ctx.opts.clientId}`).digest('base64url'),
    tid: ctx.opts.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
    ...(nonce === null ? {} : { nonce: fault === 'wrong-nonce' ? `${nonce}-not` : nonce }),
    // Entra leaves `roles` out when the user holds no app role of the application.
    ...(user.appRoles.length > 0 ? { roles: [...user.appRoles] } : {}),
    ...groupClaims(user),
  });
}

/**
 * `grant_type=authorization_code`: a confidential client redeems a code once, from the redirect
 * URI it was issued for, with the PKCE verifier of its challenge. Returns the token reply (ID
 * token signed RS256 with the key in `discovery/v2.0/keys`, `client_info` for MSAL), or why not.
 */
export function authCodeGrant(
  ctx: SimContext,
  request: FastifyRequest,
  form: URLSearchParams,
): { reply: Record<string, unknown> } | OAuthError {
  if (form.get('client_id') !== ctx.opts.clientId) {
    return {
      status: 400,
      error: 'unauthorized_client',
      aadsts: `AADSTS700016: Application with identifier '${String(form.get('client_id')).slice(0, 100)}' was not found in the directory.`,
    };
  }
  const unauthenticated = checkClientAuth(ctx, request, form);
  if (unauthenticated) return unauthenticated;
  const issued = ctx.signIn.code(form.get('code') ?? '');
  if (!issued || issued.request.clientId !== ctx.opts.clientId) {
    return invalidGrant('AADSTS70000: The provided authorization code is invalid.');
  }
  if (issued.redeemed) {
    return invalidGrant(
      'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  }
  if (issued.expiresMs <= ctx.now()) {
    return invalidGrant(
      'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.',
    );
  }
  if (form.get('redirect_uri') !== issued.request.redirectUri) {
    return invalidGrant(
      'AADSTS50148: The redirect_uri does not match the one the authorization code was issued for.',
    );
  }
  const verifier = form.get('code_verifier') ?? '';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  if (challenge !== issued.request.codeChallenge) {
    return invalidGrant(
      'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    );
  }
  // Redeemed whatever happens next: a code is good for one try only.
  issued.redeemed = true;
  const lifetime = ctx.opts.tokenLifetimeSec;
  ctx.stats.tokensIssued++;
  return {
    reply: {
      token_type: 'Bearer',
      scope: 'openid profile email',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      // An opaque token: the sign-in asked for no API, so it opens nothing here.
      access_token: `sim-at-${randomBytes(24).toString('base64url')}`,
      id_token: idToken(ctx, request, issued),
      client_info: Buffer.from(
        JSON.stringify({ uid: issued.user.objectId, utid: ctx.opts.tenantId }),
      ).toString('base64url'),
    },
  };
}
