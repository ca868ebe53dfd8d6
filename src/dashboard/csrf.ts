import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { cookieValue } from './signin/cookies.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether a state-changing request came from a page of this dashboard. Browsers send `Origin` on
 * every POST (and `Sec-Fetch-Site` on every request), so a form or fetch from another site is
 * recognisable even though the browser attaches the Basic credentials it remembers. A request
 * with neither header does not come from a browser and cannot be forged cross-site.
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const host = request.headers.host;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  // Under `Referrer-Policy: no-referrer` (ours) a browser's form post says `Origin: null` even
  // from our own page; `Sec-Fetch-Site`, which no page can set, still tells where it came from.
  if (origin === 'null' && site !== undefined) return site === 'same-origin';
  if (origin !== undefined) {
    if (!host) return false;
    try {
      return new URL(origin).host === host.toLowerCase();
    } catch {
      return false; // `Origin: null` (sandboxed frame, file:) and garbage
    }
  }
  if (site !== undefined) return site === 'same-origin';
  return true;
}

/**
 * A per-process synchronizer token for the action forms: a second, independent line of defence
 * behind the origin check. It is random, lives only in this process and grants nothing on its
 * own (the request still needs credentials), so putting it in the page reveals no secret.
 */
export function createActionToken() {
  const token = randomBytes(32).toString('base64url');
  return {
    token,
    verify(candidate: unknown): boolean {
      if (typeof candidate !== 'string') return false;
      const a = Buffer.from(candidate);
      const b = Buffer.from(token);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}

export type ActionToken = ReturnType<typeof createActionToken>;

/** The cookie that carries the action token to bull-board's own requests (it sends no header). */
export const ACTION_COOKIE = 'fleetscan_action';

/** The action token a request offers: the `x-csrf-token` header, or the bull-board cookie. */
export function actionCandidate(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  return cookieValue(request, ACTION_COOKIE);
}
