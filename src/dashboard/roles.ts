import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DASHBOARD_ROLES, type DashboardRole } from '../config/signin-schema.js';
import { html } from '../web/html.js';
import { layout } from './pages/layout.js';
import { signInButton } from './pages/signin-page.js';

/**
 * The dashboard's roles, weakest first: each one holds everything the ones before it may do.
 * `viewer` sees everything; `operator` also pauses, resumes, cancels, retries, changes priority,
 * starts campaigns and presses the kill switch; `admin` also manages API tokens, webhooks and
 * schedules.
 */
export const ROLES = DASHBOARD_ROLES;
export type Role = DashboardRole;

/** The Entra app role that grants each role (the app registration's `value`). */
export const APP_ROLE: Readonly<Record<Role, string>> = {
  viewer: 'FleetScan.Viewer',
  operator: 'FleetScan.Operator',
  admin: 'FleetScan.Admin',
};

/** How the person got in: Entra sign-in, the shared bearer token, the Basic user, or loopback. */
export type SignInMethod = 'entra' | 'token' | 'basic' | 'local';

/** Who is at the keyboard, as every route sees it on `request.person`. */
export interface Person {
  /** User principal name (`alice@contoso.com`); `token`, the Basic user or `local` otherwise. */
  upn: string;
  /** Entra object id; empty for the shared credentials, which stand for nobody in particular. */
  oid: string;
  /** Display name for the header; the UPN when the token had none. */
  name: string;
  /** Every role held, strongest last (`admin` implies the other two, and so on). */
  roles: readonly Role[];
  via: SignInMethod;
  /** Entra sessions only: the sign-out form's CSRF token, derived from the session's id. */
  signOutToken?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the dashboard's auth hook before any route runs; null only on public paths. */
    person: Person | null;
  }
}

/** The roles `role` implies, weakest first: `operator` → viewer, operator. */
export function rolesUpTo(role: Role): Role[] {
  return ROLES.slice(0, ROLES.indexOf(role) + 1);
}

/** The strongest role held, or null for none. */
export function strongestRole(roles: readonly Role[]): Role | null {
  return [...ROLES].reverse().find((r) => roles.includes(r)) ?? null;
}

/** Whether `person` holds `role` (or a stronger one). */
export function hasRole(person: Person | null | undefined, role: Role): boolean {
  const strongest = person ? strongestRole(person.roles) : null;
  return strongest !== null && ROLES.indexOf(strongest) >= ROLES.indexOf(role);
}

/**
 * The role of the shared credentials (token, Basic user, loopback without credentials): they
 * stand for whoever holds them, so they get what the dashboard offered before roles existed,
 * everything with `--allow-actions` (admin) and looking only without it (viewer).
 */
export function sharedCredentialPerson(
  via: Exclude<SignInMethod, 'entra'>,
  upn: string,
  allowActions: boolean,
): Person {
  return { upn, oid: '', name: upn, roles: rolesUpTo(allowActions ? 'admin' : 'viewer'), via };
}

/** The sentence a refusal shows: which role is needed, and what the person holds. */
export function roleRefusalMessage(person: Person | null, role: Role): string {
  const held = person ? strongestRole(person.roles) : null;
  const who = person ? `${person.upn} holds ${held ? APP_ROLE[held] : 'no FleetScan role'}` : '';
  return `This needs the ${APP_ROLE[role]} role${who ? ` (${who})` : ''}.`;
}

/**
 * Answers 403 with the role needed: a page for a browser, `{error, neededRole}` for a client
 * that asks for JSON (the page script's fetches, automation).
 */
export function sendRoleRefusal(request: FastifyRequest, reply: FastifyReply, role: Role) {
  const message = roleRefusalMessage(request.person, role);
  reply.code(403).header('cache-control', 'no-store');
  if ((request.headers.accept ?? '').includes('application/json')) {
    return reply.send({ error: message, neededRole: APP_ROLE[role] });
  }
  const body = html`<section class="card refusal">
    <h1>Not allowed</h1>
    <p class="needed-role">${message}</p>
    <p>
      Ask an administrator of the app registration to assign you the
      <code>${APP_ROLE[role]}</code> app role (or a group mapped to it), then sign in again.
    </p>
    ${request.person?.via === 'entra' ? html`<p>${signInButton('/')}</p>` : ''}
    <p><a href="/">Back to the campaigns</a></p>
  </section>`;
  return reply
    .type('text/html; charset=utf-8')
    .send(layout({ title: 'Not allowed', body, allowActions: false, person: request.person }));
}

/**
 * A route option that lets only people holding `role` through, e.g.
 * `app.post('/x', { preHandler: requireRole('operator') }, handler)`. A refusal is a 403 that
 * names the role needed; `onRefused` (the audit) hears about it first.
 */
export function requireRole(
  role: Role,
  onRefused?: (request: FastifyRequest, message: string) => Promise<void>,
): preHandlerAsyncHookHandler {
  return async function roleGate(request, reply) {
    if (hasRole(request.person, role)) return;
    await onRefused?.(request, roleRefusalMessage(request.person, role));
    await sendRoleRefusal(request, reply, role);
  };
}
