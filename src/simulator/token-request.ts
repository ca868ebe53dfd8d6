import type { FastifyRequest } from 'fastify';
import { checkClientAssertion } from './client-assertion.js';
import { baseUrl, type OAuthError } from './entra-reply.js';
import type { SimContext } from './sim-context.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The API resources Entra issues MDE tokens for, exactly those that Microsoft's pages and real
 * clients use (docs/mde-api.md "Clouds and tokens" names each source), in every cloud:
 * commercial `api.securitycenter.microsoft.com` (Microsoft Learn, "Create an app to access
 * Microsoft Defender for Endpoint without a user") and `api.security.microsoft.com` (Microsoft
 * Learn, "Supported Microsoft Defender XDR APIs": "Tokens can be acquired by accessing"); the
 * WindowsDefenderATP application id URIs `securitycenter.onmicrosoft.com/windowsatpservice`
 * (commercial and GCC) and `securitycenter.onmicrosoft.us/windowsatpservice` (GCC High, DoD), as
 * demisto/content's MicrosoftApiModule (`MICROSOFT_DEFENDER_FOR_ENDPOINT_APT_SERVICE_ENDPOINTS`)
 * and Elastic's Defender connector ask; the GCC API host, as GCC scripts ask; and the
 * WindowsDefenderATP application id itself.
 */
export const MDE_RESOURCES: readonly string[] = [
  'https://api.securitycenter.microsoft.com',
  'https://api.security.microsoft.com',
  'https://securitycenter.onmicrosoft.com/windowsatpservice',
  'https://securitycenter.onmicrosoft.us/windowsatpservice',
  'https://api-gcc.securitycenter.microsoft.us',
  'fc780465-2017-40d4-a0c5-307022471b92',
];

/** Microsoft Graph in every cloud: tokens for advanced hunting (`runHuntingQuery`). */
export const GRAPH_RESOURCES: readonly string[] = [
  'https://graph.microsoft.com',
  'https://graph.microsoft.us',
  'https://dod-graph.microsoft.us',
];

/** Checks a client-credentials request; the resource it asked for, or why not. */
export function checkTokenRequest(
  ctx: SimContext,
  request: FastifyRequest,
  form: URLSearchParams,
): { resource: string } | OAuthError {
  const single = (name: string): string | undefined =>
    form.getAll(name).length === 1 ? (form.get(name) ?? undefined) : undefined;
  const grantType = single('grant_type');
  if (grantType !== 'client_credentials') {
    return {
      status: 400,
      error: 'unsupported_grant_type',
      aadsts: `AADSTS70003: The app requested an unsupported grant type '${String(grantType)}'.`,
    };
  }
  const clientId = single('client_id');
  if (clientId !== ctx.opts.clientId) {
    return {
      status: 400,
      error: 'unauthorized_client',
      aadsts: `AADSTS700016: Application with identifier '${String(clientId).slice(0, 100)}' was not found in the directory.`,
    };
  }
  const scopes = (single('scope') ?? '').split(' ').filter((s) => s !== '');
  const scope = scopes[0];
  if (scopes.length !== 1 || !scope?.endsWith('/.default')) {
    return {
      status: 400,
      error: 'invalid_scope',
      aadsts:
        'AADSTS1002012: The provided value for scope is not valid. Client credential flows must have exactly one scope value with /.default suffixed to the resource identifier.',
    };
  }
  const resource = scope.slice(0, -'/.default'.length);
  const accepted =
    ctx.acceptedScopes ?? [...MDE_RESOURCES, ...GRAPH_RESOURCES].map((r) => `${r}/.default`);
  if (!accepted.includes(scope)) {
    return {
      status: 400,
      error: 'invalid_resource',
      aadsts: `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`,
    };
  }
  return checkClientAuth(ctx, request, form) ?? { resource };
}

/**
 * A confidential client's proof of identity on the token endpoint: its secret, or an assertion
 * signed with a trusted certificate (never both). Undefined when it holds.
 */
export function checkClientAuth(
  ctx: SimContext,
  request: FastifyRequest,
  form: URLSearchParams,
): OAuthError | undefined {
  const single = (name: string): string | undefined =>
    form.getAll(name).length === 1 ? (form.get(name) ?? undefined) : undefined;
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null && assertion !== null) {
    return {
      status: 400,
      error: 'invalid_request',
      aadsts: 'AADSTS700025: Give either client_secret or client_assertion, not both.',
    };
  }
  if (secret !== null) {
    if (ctx.opts.clientSecret === '' || secret !== ctx.opts.clientSecret) {
      return {
        status: 401,
        error: 'invalid_client',
        aadsts: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${ctx.opts.clientId}'.`,
      };
    }
    return undefined;
  }
  if (assertion !== null) {
    if (single('client_assertion_type') !== JWT_BEARER) {
      return {
        status: 400,
        error: 'invalid_request',
        aadsts: `AADSTS50027: client_assertion_type must be ${JWT_BEARER}.`,
      };
    }
    const tokenEndpoint = `${baseUrl(request)}/${ctx.opts.tenantId}/oauth2/v2.0/token`;
    const problem = checkClientAssertion(assertion, {
      clientId: ctx.opts.clientId,
      audiences: [tokenEndpoint, `${baseUrl(request)}/${ctx.opts.tenantId}/v2.0`],
      nowMs: ctx.now(),
      certificates: ctx.certificates,
    });
    return problem ? { status: 401, error: 'invalid_client', aadsts: problem } : undefined;
  }
  return {
    status: 401,
    error: 'invalid_client',
    aadsts:
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  };
}
