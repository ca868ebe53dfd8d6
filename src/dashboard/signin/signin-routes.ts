import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DenialRecorder } from '../../audit/audit-denials.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { recordAudit } from '../../audit/record-audit.js';
import type { SignInClient } from '../../auth/signin-client.js';
import type { Clock } from '../../shared/clock.js';
import { html } from '../../web/html.js';
import { signInMessagePage } from '../pages/signin-page.js';
import { cookieValue, SESSION_COOKIE, setCookie, SIGN_IN_COOKIE } from './cookies.js';
import { SignInRefused, verifyIdToken, type KeyLookup } from './id-token.js';
import type { Person } from '../roles.js';
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
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(signInMessagePage({ title, message, messageClass: 'signin-message' }));
}

/**
 * The sign-out form's CSRF token for a session: a hash of the session id under a label of its
 * own (never the Redis key's hash), so it is unguessable without the HttpOnly cookie, needs no
 * storage, and tells nothing about the id.
 */
export function signOutTokenFor(sessionId: string): string {
  return createHash('sha256').update(`fleetscan sign-out\0${sessionId}`).digest('base64url');
}

/** Compares two tokens in constant time whatever their lengths. */
function sameToken(offered: unknown, expected: string): boolean {
  if (typeof offered !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(offered), digest(expected));
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

  // The sign-out form posts urlencoded (its token); read-only dashboards have no parser for it yet.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1_024 },
      (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );
  }

  // Ends the dashboard's session here; Entra's own session is a link on the next page, since
  // the page's CSP (`form-action 'self'`) lets a form post lead only back to this dashboard.
  // The auth hook has checked the session and the origin; the form's token is a second line of
  // defence, as the action token is for the buttons (a forged sign-out would end work unsaved).
  app.post<{ Body: Record<string, unknown> | undefined }>('/signout', async (request, reply) => {
    const person = request.person;
    const session = cookieValue(request, SESSION_COOKIE);
    if (!session || !sameToken(request.body?.['signout-token'], signOutTokenFor(session))) {
      return reply
        .code(403)
        .header('cache-control', 'no-store')
        .send({ error: 'missing or wrong sign-out token' });
    }
    await deps.sessions.destroy(session);
    setCookie(reply, SESSION_COOKIE, null);
    if (person) await audit(request, 'dashboard.signout', 'ok', '', person);
    return reply.redirect('/signed-out', 303);
  });

  app.get('/signed-out', async (_request, reply) => {
    const entra = deps.client.logoutUrl(new URL('/signed-out', deps.redirectUri).toString());
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        signInMessagePage({
          title: 'Signed out',
          message: 'You signed out of the fleetscan dashboard.',
          messageClass: 'signin-message',
          extra: html`<p class="signed-out-note">
            Your Microsoft account is still signed in on this browser:
            <a href="${entra}">sign out of Microsoft too</a>.
          </p>`,
        }),
      );
  });
}

/**
 * The person of the request's session cookie, or null. Used by the dashboard's auth hook before
 * any route runs.
 */
export async function sessionPerson(
  request: FastifyRequest,
  sessions: SessionStore,
): Promise<Person | null> {
  const id = cookieValue(request, SESSION_COOKIE);
  const person = await sessions.read(id);
  return person && id ? { ...person, signOutToken: signOutTokenFor(id) } : null;
}
