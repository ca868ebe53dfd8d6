import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DenialRecorder } from '../../audit/audit-denials.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { recordAudit } from '../../audit/record-audit.js';
import type { SignInClient } from '../../auth/signin-client.js';
import type { Clock } from '../../shared/clock.js';
import { html } from '../../web/html.js';
import { layout } from '../pages/layout.js';
import { cookieValue, SESSION_COOKIE, setCookie, SIGN_IN_COOKIE } from './cookies.js';
import { SignInRefused, verifyIdToken, type KeyLookup } from './id-token.js';
import { personFromClaims, type RoleMapping } from './person-from-claims.js';
import type { SessionStore } from './session-store.js';

/** Everything `dashboard.auth: entra` needs, built by the CLI from `dashboard.entra`. */
export interface SignInDeps {
  client: SignInClient;
  keys: KeyLookup;
  sessions: SessionStore;
  roles: RoleMapping;
  /** The registered redirect URI: its origin is the dashboard's public address. */
  redirectUri: string;
  /**
   * Refused sign-ins as counted audit entries (source `dashboard`), so a flood of bad callbacks
   * from one address takes one entry per status and window instead of pushing real ones out.
   */
  denials: DenialRecorder;
}

/** Paths reachable without a session: the sign-in itself. */
export const SIGN_IN_PATHS: ReadonlySet<string> = new Set([
  '/signin',
  '/signin/callback',
  '/signed-out',
]);

/** Where to go after signing in: a path of this dashboard only (never `//evil.example`). */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) return '/';
  if (value.startsWith('//') || value.startsWith('/\\') || value.length > 1_000) return '/';
  return SIGN_IN_PATHS.has(value.split('?')[0] ?? '') ? '/' : value;
}

function page(reply: FastifyReply, status: number, title: string, message: string) {
  const body = html`<section class="card refusal">
    <h1>${title}</h1>
    <p class="signin-message">${message}</p>
    <p><a href="/signin">Sign in</a></p>
  </section>`;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(layout({ title, body, allowActions: false }));
}

/** MSAL's refusal of a code (replayed, expired, wrong verifier) as one sentence. */
function redeemRefusal(error: unknown): SignInRefused {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { errorCode?: unknown }).errorCode;
  return new SignInRefused(
    typeof code === 'string' && code ? code : 'redeem_failed',
    `Entra did not accept this sign-in's code: ${text.split('\n')[0] ?? text}`,
    400,
    { cause: error },
  );
}

/**
 * `/signin` → Entra → `/signin/callback` → a server-side session; `POST /signout` ends it and
 * goes through Entra's sign-out. The callback is refused unless its state is one this dashboard
 * handed out, unused, to this very browser, the code redeems with the PKCE verifier, and the ID
 * token verifies (signature, issuer, audience, expiry, nonce) and grants a role. Each sign-in is
 * audited on its own with the person's UPN and object id; refusals are collapsed into counted
 * entries per person (or, before the token names one, per address) and status.
 */
export function registerSignInRoutes(
  app: FastifyInstance,
  deps: SignInDeps & { clock: Clock; audit?: AuditLog | undefined },
): void {
  const audit = async (
    request: FastifyRequest,
    action: string,
    outcome: 'ok',
    detail: string,
    who: { upn: string; oid: string },
  ) => {
    if (!deps.audit) return;
    await recordAudit(
      {
        log: deps.audit,
        actor: {
          who: `dashboard:${who.upn}`,
          source: 'dashboard',
          from: request.ip,
          ...(who.oid ? { oid: who.oid } : {}),
        },
        now: () => deps.clock.now(),
        onUnrecorded: (error) => {
          request.log.error({ err: error, action }, 'audit record not written');
        },
      },
      { action, outcome, detail },
    );
  };

  app.get<{ Querystring: { returnTo?: string } }>('/signin', async (request, reply) => {
    const pending = await deps.client.newSignIn();
    const binding = randomBytes(24).toString('base64url');
    const returnTo = safeReturnTo(request.query.returnTo);
    await deps.sessions.saveSignIn({ ...pending, binding, returnTo });
    setCookie(reply, SIGN_IN_COOKIE, binding, 600);
    return reply
      .header('cache-control', 'no-store')
      .redirect(await deps.client.authUrl(pending), 302);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/signin/callback',
    async (request, reply) => {
      const { code, state, error, error_description: description } = request.query;
      let who: { upn: string; oid: string } | undefined;
      try {
        // The state is taken out of Redis first, so a replayed callback finds nothing.
        const started = state ? await deps.sessions.takeSignIn(state) : null;
        if (!state || !started) {
          throw new SignInRefused(
            'unknown_state',
            'This sign-in was not started here, was already used, or took too long (state). Sign in again.',
          );
        }
        if (cookieValue(request, SIGN_IN_COOKIE) !== started.binding) {
          throw new SignInRefused(
            'other_browser',
            'This sign-in was started in another browser (or its cookie was lost). Sign in again.',
          );
        }
        if (error) {
          throw new SignInRefused(error, `Entra refused the sign-in: ${description ?? error}`, 403);
        }
        if (!code) throw new SignInRefused('no_code', 'Entra sent no authorization code.');
        const idToken = await deps.client
          .redeem(code, started, state)
          .catch((e: unknown) => Promise.reject(redeemRefusal(e)));
        const claims = await verifyIdToken(
          idToken,
          {
            issuer: deps.client.issuer,
            audience: deps.client.clientId,
            tenantId: deps.client.tenantId,
            nonce: started.nonce,
            nowMs: deps.clock.now(),
          },
          deps.keys,
        );
        const oid = typeof claims['oid'] === 'string' ? claims['oid'] : '';
        const upn = claims['preferred_username'];
        who = { upn: typeof upn === 'string' ? upn : oid, oid };
        const person = personFromClaims(claims, deps.roles);
        setCookie(reply, SESSION_COOKIE, await deps.sessions.create(person), undefined);
        setCookie(reply, SIGN_IN_COOKIE, null);
        await audit(request, 'dashboard.signin', 'ok', person.roles.at(-1) ?? '', person);
        return await reply.redirect(started.returnTo, 303);
      } catch (failure) {
        if (!(failure instanceof SignInRefused)) throw failure;
        request.log.warn({ code: failure.code, upn: who?.upn }, 'dashboard sign-in refused');
        await deps.denials
          .record({
            at: deps.clock.now(),
            who: who ? `dashboard:${who.upn}` : `address:${request.ip}`,
            action: 'dashboard.signin',
            target: '',
            from: request.ip,
            status: failure.status,
            reason: `${failure.code}: ${failure.message}`,
            ...(who?.oid ? { oid: who.oid } : {}),
          })
          .catch((error: unknown) => {
            request.log.error({ err: error }, 'audit record of a refused sign-in not written');
          });
        return await page(reply, failure.status, 'Sign-in refused', failure.message);
      }
    },
  );

  // The sign-out form posts urlencoded (empty); read-only dashboards have no parser for it yet.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1_024 },
      (_request, _body, done) => {
        done(null, {});
      },
    );
  }

  // Ends the dashboard's session here; Entra's own session is a link on the next page, since
  // the page's CSP (`form-action 'self'`) lets a form post lead only back to this dashboard.
  app.post('/signout', async (request, reply) => {
    const person = request.person;
    await deps.sessions.destroy(cookieValue(request, SESSION_COOKIE));
    setCookie(reply, SESSION_COOKIE, null);
    if (person) await audit(request, 'dashboard.signout', 'ok', '', person);
    return reply.redirect('/signed-out', 303);
  });

  app.get('/signed-out', async (_request, reply) => {
    const entra = deps.client.logoutUrl(new URL('/signed-out', deps.redirectUri).toString());
    const body = html`<section class="card">
      <h1>Signed out</h1>
      <p>You signed out of the fleetscan dashboard.</p>
      <p><a href="/signin">Sign in again</a> · <a href="${entra}">Sign out of Microsoft too</a></p>
    </section>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(layout({ title: 'Signed out', body, allowActions: false }));
  });
}

/**
 * The person of the request's session cookie, or null. Used by the dashboard's auth hook before
 * any route runs.
 */
export function sessionPerson(request: FastifyRequest, sessions: SessionStore) {
  return sessions.read(cookieValue(request, SESSION_COOKIE));
}
