import { html, type SafeHtml } from '../../web/html.js';
import { layout } from './layout.js';

/**
 * The one way into an Entra-signed dashboard: a link to `/signin` that brings the person back to
 * `returnTo` afterwards. A plain link, not a form: `/signin` is a GET that only redirects to
 * Entra, and the page needs no script (the CSP allows none inline). `returnTo` must already have
 * gone through `safeReturnTo`.
 */
export function signInButton(returnTo: string, label = 'Sign in with Microsoft'): SafeHtml {
  return html`<a
    class="btn btn-signin"
    role="button"
    href="/signin?returnTo=${encodeURIComponent(returnTo)}"
    ><span class="ms-logo" aria-hidden="true"><i></i><i></i><i></i><i></i></span>${label}</a
  >`;
}

/**
 * What a signed-out page load gets (status 401): what this is, and the sign-in button leading
 * back to the page asked for. It shows no data and no navigation: every other page needs a
 * session too.
 */
export function signInLandingPage(returnTo: string): string {
  return layout({
    title: 'Sign in',
    allowActions: false,
    signedOut: true,
    body: html`<section class="panel signin-landing">
      <h1>fleetscan</h1>
      <p class="signin-lead">
        The ops console for Microsoft Defender for Endpoint antivirus scans: campaigns, tenants and
        their API budgets, workers and schedules. Sign in with your work account to see them.
      </p>
      <p>${signInButton(returnTo)}</p>
      <p class="note">
        What you may do here comes from your FleetScan.Viewer, FleetScan.Operator or FleetScan.Admin
        role in the app registration.
      </p>
    </section>`,
  });
}

/** A page of the sign-in flow (refused, signed out): a heading, a sentence, and the way back in. */
export function signInMessagePage(input: {
  title: string;
  message: string;
  messageClass: string;
  extra?: SafeHtml;
  buttonLabel?: string;
}): string {
  return layout({
    title: input.title,
    allowActions: false,
    signedOut: true,
    body: html`<section class="panel signin-landing">
      <h1>${input.title}</h1>
      <p class="${input.messageClass}">${input.message}</p>
      <p>${signInButton('/', input.buttonLabel)}</p>
      ${input.extra ?? ''}
    </section>`,
  });
}
