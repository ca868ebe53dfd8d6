import type { FastifyReply, FastifyRequest } from 'fastify';
import { signInLandingPage } from '../pages/signin-page.js';
import { safeReturnTo } from './signin-routes.js';

/**
 * Whether a request is a person loading a page (a link followed, an address typed) rather than
 * the page script's fragments and event streams, a download (exports answer CSV or JSON), a
 * scraper or a write.
 */
function isPageLoad(request: FastifyRequest, url: string): boolean {
  const path = url.split('?')[0] ?? url;
  return (
    request.method === 'GET' &&
    !path.startsWith('/fragments/') &&
    !path.startsWith('/events/') &&
    !/\/export\.[^/]*$/.test(path) &&
    (request.headers.accept ?? '').includes('text/html')
  );
}

/**
 * The answer to a request without a live session. A page load gets the sign-in page (401): what
 * this is and a "Sign in with Microsoft" button that comes back to the page asked for. Nothing
 * signs in by itself, so a wall screen whose session ended shows that it did instead of bouncing
 * through Entra. Fragments, event streams, exports and writes get a JSON 401 (a page would only
 * confuse a `fetch`), and the next page load offers the button.
 */
export function askToSignIn(request: FastifyRequest, reply: FastifyReply) {
  const url = request.raw.url ?? '/';
  reply.code(401).header('cache-control', 'no-store');
  if (isPageLoad(request, url)) {
    return reply.type('text/html; charset=utf-8').send(signInLandingPage(safeReturnTo(url)));
  }
  return reply.send({ error: 'sign in first', signIn: '/signin' });
}
