import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authCodeGrant } from './auth-code-grant.js';
import { DEVICE_CODE_GRANTS, delegatedGrant } from './device-code.js';
import { baseUrl, sendJson, sendOAuthError, type OAuthError } from './entra-reply.js';
import type { SimContext } from './sim-context.js';
import { checkTokenRequest } from './token-request.js';

export { MDE_RESOURCES } from './token-request.js';

function tenantOf(ctx: SimContext, request: FastifyRequest): OAuthError | undefined {
  const { tenant } = request.params as { tenant?: string };
  if (tenant === ctx.opts.tenantId) return undefined;
  return {
    status: 400,
    error: 'invalid_tenant',
    aadsts: `AADSTS90002: Tenant '${String(tenant).slice(0, 100)}' not found.`,
  };
}

function openIdConfiguration(base: string, tenant: string): Record<string, unknown> {
  return {
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic',
    ],
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'nbf',
      'tid',
      'ver',
      'nonce',
      'oid',
      'roles',
      'groups',
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

/**
 * Entra's side, as MSAL asks for it: instance discovery, OpenID configuration, token endpoint
 * (client credentials, device code, refresh token, authorization code).
 */
export function registerTokenEndpoint(app: FastifyInstance, ctx: SimContext): void {
  app.get('/common/discovery/instance', async (request, reply) => {
    const host = request.host;
    await sendJson(
      ctx,
      request,
      reply,
      200,
      {
        tenant_discovery_endpoint: `${baseUrl(request)}/${ctx.opts.tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
      null,
    );
  });

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (request, reply) => {
    const problem = tenantOf(ctx, request);
    if (problem) return sendOAuthError(ctx, request, reply, problem);
    return sendJson(
      ctx,
      request,
      reply,
      200,
      openIdConfiguration(baseUrl(request), ctx.opts.tenantId),
      null,
    );
  });

  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const problem = tenantOf(ctx, request);
    if (problem) return sendOAuthError(ctx, request, reply, problem);
    const contentType = request.headers['content-type'] ?? '';
    if (
      !/^application\/x-www-form-urlencoded\b/i.test(contentType) ||
      typeof request.body !== 'string'
    ) {
      return sendOAuthError(ctx, request, reply, {
        status: 400,
        error: 'invalid_request',
        aadsts:
          "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
      });
    }
    const form = new URLSearchParams(request.body);
    const grantType = form.get('grant_type');
    if (DEVICE_CODE_GRANTS.has(grantType ?? '') || grantType === 'refresh_token') {
      const delegated = delegatedGrant(ctx, request, form);
      if ('reply' in delegated) return sendJson(ctx, request, reply, 200, delegated.reply, null);
      return sendOAuthError(ctx, request, reply, delegated);
    }
    if (grantType === 'authorization_code') {
      const granted = authCodeGrant(ctx, request, form);
      if ('reply' in granted) return sendJson(ctx, request, reply, 200, granted.reply, null);
      return sendOAuthError(ctx, request, reply, granted);
    }
    const checked = checkTokenRequest(ctx, request, form);
    if ('error' in checked) return sendOAuthError(ctx, request, reply, checked);
    ctx.stats.tokensIssued++;
    const lifetime = ctx.opts.tokenLifetimeSec;
    return sendJson(
      ctx,
      request,
      reply,
      200,
      {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: ctx.tokens.issue(ctx.opts.clientId, checked.resource, lifetime),
      },
      null,
    );
  });
}
