import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseUrl, sendJson, sendOAuthError, type OAuthError } from './entra-reply.js';
import { signHs256 } from './jwt.js';
import type { SimContext } from './sim-context.js';
import type { SimUser } from './sim-users.js';
import { MDE_RESOURCES } from './token-request.js';

/** Entra accepts the RFC 8628 URN and the short name MSAL sends. */
export const DEVICE_CODE_GRANTS: ReadonlySet<string> = new Set([
  'urn:ietf:params:oauth:grant-type:device_code',
  'device_code',
]);
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const ID_TOKEN_KEY = randomBytes(32);

/** The one MDE resource a delegated request asks for (`<resource>/.default` + OIDC scopes). */
function resourceOf(ctx: SimContext, scope: string | null): string | OAuthError {
  const api = (scope ?? '').split(' ').filter((s) => s !== '' && !OIDC_SCOPES.has(s));
  const accepted = ctx.acceptedScopes ?? MDE_RESOURCES.map((r) => `${r}/.default`);
  const [only] = api;
  if (api.length !== 1 || !only || !accepted.includes(only)) {
    return {
      status: 400,
      error: 'invalid_scope',
      aadsts: `AADSTS70011: The provided request must include a 'scope' input parameter naming one Defender resource '/.default' scope.`,
    };
  }
  return only.slice(0, -'/.default'.length);
}

function wrongClient(ctx: SimContext, clientId: string | null): OAuthError | undefined {
  if (clientId === ctx.opts.clientId) return undefined;
  return {
    status: 400,
    error: 'unauthorized_client',
    aadsts: `AADSTS700016: Application with identifier '${String(clientId).slice(0, 100)}' was not found in the directory.`,
  };
}

/** Entra's answer when the app registration does not allow public client flows. */
function notPublicClient(ctx: SimContext): OAuthError | undefined {
  if (ctx.opts.publicClient) return undefined;
  return {
    status: 401,
    error: 'invalid_client',
    aadsts:
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  };
}

/** The token reply of a delegated grant: access, refresh and id token, client_info. */
function tokenReply(ctx: SimContext, request: FastifyRequest, user: SimUser, resource: string) {
  const lifetime = ctx.opts.tokenLifetimeSec;
  const iat = Math.floor(ctx.now() / 1000);
  ctx.stats.tokensIssued++;
  const idToken = signHs256(
    {
      aud: ctx.opts.clientId,
      iss: `${baseUrl(request)}/${ctx.opts.tenantId}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + 3600,
      name: user.username,
      oid: user.objectId,
      preferred_username: user.username,
      sub: user.objectId,
      tid: ctx.opts.tenantId,
      ver: '2.0',
    },
    ID_TOKEN_KEY,
  );
  return {
    token_type: 'Bearer',
    // Entra v2 echoes `/.default` beside the granted permissions when it was asked for.
    scope: [
      ...user.scopes.map((s) => `${resource}/${s}`),
      `${resource}/.default`,
      'openid',
      'profile',
      'offline_access',
    ].join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: ctx.tokens.issue(ctx.opts.clientId, resource, lifetime, {
      user: user.username,
      userObjectId: user.objectId,
      scopes: user.scopes,
      wids: user.wids,
    }),
    refresh_token: ctx.delegated.issueRefreshToken({ user, resource }),
    id_token: idToken,
    client_info: Buffer.from(
      JSON.stringify({ uid: user.objectId, utid: ctx.opts.tenantId }),
    ).toString('base64url'),
  };
}

/**
 * The delegated grants of the token endpoint (device code, refresh token), or an OAuth error.
 * Polling follows RFC 8628 as Entra does: `authorization_pending` until the user has entered the
 * code, `slow_down` when polled faster than the interval, `expired_token` after its lifetime.
 */
export function delegatedGrant(
  ctx: SimContext,
  request: FastifyRequest,
  form: URLSearchParams,
): { reply: Record<string, unknown> } | OAuthError {
  const problem = wrongClient(ctx, form.get('client_id')) ?? notPublicClient(ctx);
  if (problem) return problem;
  const now = ctx.now();
  if (DEVICE_CODE_GRANTS.has(form.get('grant_type') ?? '')) {
    const code = ctx.delegated.byDeviceCode(form.get('device_code') ?? '');
    if (!code || code.redeemed) {
      return {
        status: 400,
        error: 'invalid_grant',
        aadsts: 'AADSTS70000: The provided device code is invalid or was already used.',
      };
    }
    if (code.expiresMs <= now) {
      return {
        status: 400,
        error: 'expired_token',
        aadsts: 'AADSTS70020: The provided value for the input parameter device_code has expired.',
      };
    }
    const tooSoon = code.lastPollMs !== null && now - code.lastPollMs < code.intervalMs / 2;
    code.lastPollMs = now;
    if (tooSoon) {
      return {
        status: 400,
        error: 'slow_down',
        aadsts: 'AADSTS70016: The client is polling too often; slow down.',
      };
    }
    if (!code.approvedBy) {
      return {
        status: 400,
        error: 'authorization_pending',
        aadsts: 'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.',
      };
    }
    code.redeemed = true;
    return { reply: tokenReply(ctx, request, code.approvedBy, code.resource) };
  }
  const grant = ctx.delegated.refreshGrant(form.get('refresh_token') ?? '');
  if (!grant) {
    return {
      status: 400,
      error: 'invalid_grant',
      aadsts:
        'AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed.',
    };
  }
  const resource = resourceOf(ctx, form.get('scope'));
  if (typeof resource !== 'string') return resource;
  return { reply: tokenReply(ctx, request, grant.user, resource) };
}

const LOGIN_PAGE = `<!doctype html><title>Simulator sign-in</title>
<form method="post"><label>Code <input name="code"></label>
<label>User <input name="user"></label><button>Sign in</button></form>`;

/** The device-authorization endpoint and the page where the "user" enters the code. */
export function registerDeviceCodeRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.post('/:tenant/oauth2/v2.0/devicecode', async (request, reply) => {
    const { tenant } = request.params as { tenant?: string };
    const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
    const problem =
      (tenant === ctx.opts.tenantId
        ? undefined
        : {
            status: 400,
            error: 'invalid_tenant',
            aadsts: `AADSTS90002: Tenant '${String(tenant).slice(0, 100)}' not found.`,
          }) ?? wrongClient(ctx, form.get('client_id'));
    if (problem) return sendOAuthError(ctx, request, reply, problem);
    const resource = resourceOf(ctx, form.get('scope'));
    if (typeof resource !== 'string') return sendOAuthError(ctx, request, reply, resource);
    const code = ctx.delegated.newDeviceCode(
      resource,
      ctx.now(),
      ctx.opts.deviceCodeLifetimeSec,
      ctx.opts.deviceCodeIntervalSec,
    );
    const uri = `${baseUrl(request)}/devicelogin`;
    return sendJson(
      ctx,
      request,
      reply,
      200,
      {
        user_code: code.userCode,
        device_code: code.deviceCode,
        verification_uri: uri,
        expires_in: ctx.opts.deviceCodeLifetimeSec,
        interval: ctx.opts.deviceCodeIntervalSec,
        message: `To sign in, use a web browser to open the page ${uri} and enter the code ${code.userCode} to authenticate.`,
      },
      null,
    );
  });

  app.get('/devicelogin', async (_request, reply) => {
    await reply.type('text/html; charset=utf-8').send(LOGIN_PAGE);
  });

  app.post('/devicelogin', async (request, reply) => {
    const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
    const ok = ctx.delegated.approve(form.get('code') ?? '', form.get('user') ?? '', ctx.now());
    await reply
      .code(ok ? 200 : 400)
      .type('text/plain; charset=utf-8')
      .send(
        ok ? 'Signed in. You can close this window.' : 'Unknown or expired code, or unknown user.',
      );
  });
}
