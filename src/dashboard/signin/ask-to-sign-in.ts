import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeReturnTo } from './signin-routes.js';

/**
 * The answer to a request without a live session: a page load goes to `/signin` and comes back
 * afterwards; the page script's fragments, exports and writes get a 401 (a redirect to Entra
 * would only confuse a `fetch`), and the next page load signs in.
 */
export function askToSignIn(request: FastifyRequest, reply: FastifyReply) {
  const url = request.raw.url ?? '/';
  const isPageLoad =
    request.method === 'GET' &&
    !url.startsWith('/fragments/') &&
    (request.headers.accept ?? '').includes('text/html');
  if (isPageLoad) {
    return reply
      .header('cache-control', 'no-store')
      .redirect(`/signin?returnTo=${encodeURIComponent(safeReturnTo(url))}`, 302);
  }
  return reply
    .code(401)
    .header('cache-control', 'no-store')
    .send({ error: 'sign in first', signIn: '/signin' });
}
