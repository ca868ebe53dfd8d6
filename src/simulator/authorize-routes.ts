import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendJson } from './entra-reply.js';
import type { SimContext } from './sim-context.js';
import type { AuthorizeRequest } from './signin-state.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether `uri` is one of the registered redirect URIs. As in Entra, a loopback URI matches
 * whatever its port; everything else must match exactly (no trailing-slash or case leniency).
 */
export function isRegisteredRedirect(registered: readonly string[], uri: string): boolean {
  let asked: URL;
  try {
    asked = new URL(uri);
  } catch {
    return false;
  }
  return registered.some((entry) => {
    if (entry === uri) return true;
    const known = new URL(entry);
    if (!LOOPBACK.has(known.hostname) || known.hostname !== asked.hostname) return false;
    return (
      known.protocol === asked.protocol &&
      known.pathname === asked.pathname &&
      known.search === asked.search
    );
  });
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);

/** An error Entra shows on its own page: it never redirects to an unverified redirect URI. */
async function errorPage(reply: FastifyReply, status: number, aadsts: string) {
  await reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><title>Sign in (simulated Entra ID)</title><h1>Sorry, but we're having trouble signing you in.</h1><p class="aadsts">${escapeHtml(aadsts)}</p>`,
    );
}

/** An error the client hears about at its redirect URI (`error`, `error_description`, `state`). */
async function redirectError(
  reply: FastifyReply,
  redirectUri: string,
  state: string | null,
  error: string,
  description: string,
) {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state !== null) url.searchParams.set('state', state);
  await reply.redirect(url.toString(), 302);
}

function userPicker(ctx: SimContext, flow: string): string {
  const users = [...ctx.delegated.users.values()];
  const buttons = users.map(
    (u) =>
      `<li><button type="submit" name="username" value="${escapeHtml(u.username)}">` +
      `${escapeHtml(u.displayName)} &lt;${escapeHtml(u.username)}&gt;` +
      ` <small>${escapeHtml(u.appRoles.join(', ') || 'no app role')}</small></button></li>`,
  );
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in (simulated Entra ID)</title></head>' +
    `<body><h1>Pick an account</h1><p>Simulated tenant ${escapeHtml(ctx.opts.tenantId)}: test users only.</p>` +
    `<form method="post"><input type="hidden" name="flow" value="${escapeHtml(flow)}"><ul>` +
    `${buttons.join('')}</ul></form></body></html>`
  );
}

/** Checks an `/authorize` query; the request to keep, or the answer to give instead. */
function checkAuthorize(
  ctx: SimContext,
  query: URLSearchParams,
):
  | AuthorizeRequest
  | { page: string }
  | { redirect: string; state: string | null; error: string; description: string } {
  const clientId = query.get('client_id') ?? '';
  if (clientId !== ctx.opts.clientId) {
    return {
      page: `AADSTS700016: Application with identifier '${clientId.slice(0, 100)}' was not found in the directory.`,
    };
  }
  const redirectUri = query.get('redirect_uri') ?? '';
  if (!isRegisteredRedirect(ctx.opts.redirectUris, redirectUri)) {
    return {
      page: `AADSTS50011: The redirect URI '${redirectUri.slice(0, 200)}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    };
  }
  const state = query.get('state');
  const fail = (error: string, description: string) => ({
    redirect: redirectUri,
    state,
    error,
    description,
  });
  if (query.get('response_type') !== 'code') {
    return fail(
      'unsupported_response_type',
      'AADSTS700054: response_type must be code for this application.',
    );
  }
  const scope = query.get('scope') ?? '';
  if (!scope.split(' ').includes('openid')) {
    return fail('invalid_request', "AADSTS900144: The request must include the scope 'openid'.");
  }
  // Entra requires PKCE only of single-page apps; the simulator is stricter and requires S256
  // of every client, since fleetscan's dashboard always sends it.
  const codeChallenge = query.get('code_challenge') ?? '';
  if (query.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    return fail(
      'invalid_request',
      'AADSTS9002325: Proof Key for Code Exchange (S256) is required for this application.',
    );
  }
  return { clientId, redirectUri, scope, state, nonce: query.get('nonce'), codeChallenge };
}

function queryOf(request: FastifyRequest): URLSearchParams {
  const url = request.raw.url ?? '';
  const mark = url.indexOf('?');
  return new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
}

/**
 * The browser's side of an Entra sign-in: `/authorize` shows the test users to pick from, the
 * pick redirects back with a one-time code (`?code=…&state=…`), `/logout` returns to the app,
 * and `discovery/v2.0/keys` publishes the key the ID tokens are signed with.
 */
export function registerAuthorizeRoutes(app: FastifyInstance, ctx: SimContext): void {
  const tenantOk = (request: FastifyRequest) =>
    (request.params as { tenant?: string }).tenant === ctx.opts.tenantId;

  app.get('/:tenant/discovery/v2.0/keys', async (request, reply) => {
    if (!tenantOk(request)) return errorPage(reply, 400, 'AADSTS90002: Tenant not found.');
    return sendJson(ctx, request, reply, 200, ctx.signIn.jwks(), null);
  });

  app.get('/:tenant/oauth2/v2.0/authorize', async (request, reply) => {
    if (!tenantOk(request)) return errorPage(reply, 400, 'AADSTS90002: Tenant not found.');
    const checked = checkAuthorize(ctx, queryOf(request));
    if ('page' in checked) return errorPage(reply, 400, checked.page);
    if ('redirect' in checked) {
      return redirectError(
        reply,
        checked.redirect,
        checked.state,
        checked.error,
        checked.description,
      );
    }
    const flow = ctx.signIn.startFlow(checked, ctx.now());
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(userPicker(ctx, flow));
  });

  app.post('/:tenant/oauth2/v2.0/authorize', async (request, reply) => {
    if (!tenantOk(request)) return errorPage(reply, 400, 'AADSTS90002: Tenant not found.');
    const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
    const flow = ctx.signIn.takeFlow(form.get('flow') ?? '', ctx.now());
    if (!flow)
      return errorPage(reply, 400, 'AADSTS90014: The sign-in request expired or was already used.');
    const user = ctx.delegated.users.get((form.get('username') ?? '').toLowerCase());
    if (!user) {
      return redirectError(
        reply,
        flow.redirectUri,
        flow.state,
        'access_denied',
        'AADSTS50034: The user account does not exist in this directory.',
      );
    }
    const url = new URL(flow.redirectUri);
    url.searchParams.set('code', ctx.signIn.issueCode(flow, user, ctx.now()));
    if (flow.state !== null) url.searchParams.set('state', flow.state);
    return reply.redirect(url.toString(), 302);
  });

  app.get('/:tenant/oauth2/v2.0/logout', async (request, reply) => {
    const back = queryOf(request).get('post_logout_redirect_uri');
    const registeredRoots = ctx.opts.redirectUris.map((u) => rootOf(u) ?? '');
    const root = back === null ? null : rootOf(back);
    if (back !== null && root !== null && isRegisteredRedirect(registeredRoots, root)) {
      return reply.redirect(back, 302);
    }
    return reply
      .type('text/html; charset=utf-8')
      .send('<!doctype html><title>Signed out</title><h1>You signed out of your account.</h1>');
  });
}

/** `https://host:port/` of a URL, or null when it is none. */
function rootOf(uri: string): string | null {
  try {
    return new URL('/', uri).toString();
  } catch {
    return null;
  }
}
