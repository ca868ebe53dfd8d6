import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The session cookie: `__Host-` makes the browser refuse it unless Secure, path `/` and without
 * a Domain, so no sibling host can plant or read one. Browsers treat http://localhost and
 * 127.0.0.1 as secure, so the simulator demo works without TLS.
 */
export const SESSION_COOKIE = '__Host-fleetscan_session';
/** Binds a sign-in's callback to the browser that started it (no login CSRF). */
export const SIGN_IN_COOKIE = '__Host-fleetscan_signin';

/** The value of cookie `name` in the request, or undefined. */
export function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * Sets (or, with null, clears) an HttpOnly, Secure, SameSite=Lax cookie. Lax, not Strict: the
 * first page after Entra sends the browser back is a cross-site navigation, and a Strict session
 * cookie would be missing from it. Writes still need the same origin and the action token.
 */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string | null,
  maxAgeSec?: number,
): void {
  const age = value === null ? '; Max-Age=0' : maxAgeSec ? `; Max-Age=${String(maxAgeSec)}` : '';
  const cookie = `${name}=${value ?? ''}; Path=/; HttpOnly; Secure; SameSite=Lax${age}`;
  const previous = reply.getHeader('set-cookie');
  const list = Array.isArray(previous) ? previous : previous ? [String(previous)] : [];
  reply.header('set-cookie', [...list, cookie]);
}
