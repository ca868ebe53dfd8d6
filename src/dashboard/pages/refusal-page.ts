import { html } from '../../web/html.js';
import { layout, type SignedIn } from './layout.js';

/** The answer to a refused form post: what was wrong, and the way back to the page it came from. */
export function refusalPage(message: string, url: string, person?: SignedIn | null): string {
  // `/campaigns/<id>/<action>` goes back to `/campaigns/<id>`, `/admin/<section>/…` to its list;
  // anything else to the start page.
  const back =
    /^\/campaigns\/c-[a-z0-9]+(?=\/)/.exec(url)?.[0] ??
    /^\/admin\/(?:tokens|webhooks|schedules)/.exec(url)?.[0] ??
    '/';
  return layout({
    title: 'Refused',
    allowActions: true,
    person,
    body: html`<section class="card refusal">
      <h1>Refused</h1>
      <p class="refusal-message" role="alert">${message}</p>
      <p><a href="${back}">Back</a></p>
    </section>`,
  });
}
