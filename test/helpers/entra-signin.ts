import type { FastifyInstance } from 'fastify';
import { got, type Got } from 'got';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildSimulator, type Simulator } from '../../src/simulator/build-simulator.js';
import type { SimUserInput } from '../../src/simulator/options.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';

export { trustingNetwork } from '../../bench/lib/trusting-network.js';

/** A group the test config maps to `operator` (`dashboard.entra.groups`). */
export const OPERATOR_GROUP = '0a0a0a0a-1111-4222-8333-444444444444';

/** Test users of the simulated tenant, one per way of holding (or not holding) a role. */
export const SIGN_IN_USERS: readonly SimUserInput[] = [
  { username: 'vera@contoso.test', displayName: 'Vera Viewer', appRoles: ['FleetScan.Viewer'] },
  { username: 'otto@contoso.test', displayName: 'Otto Operator', appRoles: ['FleetScan.Operator'] },
  { username: 'ada@contoso.test', displayName: 'Ada Admin', appRoles: ['FleetScan.Admin'] },
  { username: 'nora@contoso.test', displayName: 'Nora Nobody' },
  { username: 'greta@contoso.test', displayName: 'Greta Group', groups: [OPERATOR_GROUP] },
  {
    // 201 groups: Entra sends the overage indicator instead of the list.
    username: 'olga@contoso.test',
    displayName: 'Olga Overage',
    appRoles: ['FleetScan.Viewer'],
    groups: Array.from(
      { length: 201 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    ),
  },
];

/** A simulator on HTTPS (MSAL refuses plain-http authorities) with the sign-in test users. */
export async function startSignInSimulator(): Promise<{
  sim: Simulator;
  url: string;
  ca: string;
  http: Got;
}> {
  const tls = await createSelfSignedCertificate();
  const sim = await buildSimulator({ tls, users: SIGN_IN_USERS, fleet: 20 });
  const url = (await sim.app.listen({ port: 0, host: '127.0.0.1' })).replace(
    'localhost',
    '127.0.0.1',
  );
  const http = got.extend({
    https: { certificateAuthority: tls.cert },
    throwHttpErrors: false,
    followRedirect: false,
    retry: { limit: 0 },
    timeout: { request: 10_000 },
  });
  return { sim, url, ca: tls.cert, http };
}

/** A cookie header made of the name=value pairs a reply set (attributes dropped). */
export function cookiesOf(
  setCookie: string | string[] | undefined,
  jar = new Map<string, string>(),
) {
  for (const line of [setCookie ?? []].flat()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    if (/Max-Age=0/i.test(line)) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1));
  }
  return jar;
}

export const cookieHeader = (jar: Map<string, string>) =>
  [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/** The callback URL a sign-in as `username` comes back to, and the browser's cookies until then. */
export async function callbackFor(
  app: FastifyInstance,
  http: Got,
  username: string,
): Promise<{ callback: URL; jar: Map<string, string> }> {
  const start = await app.inject({ url: '/signin?returnTo=/', headers: { accept: 'text/html' } });
  const jar = cookiesOf(start.headers['set-cookie']);
  const authorize = String(start.headers.location);
  const picker = await http(authorize);
  const flow = /name="flow" value="([^"]+)"/.exec(picker.body)?.[1];
  if (!flow) throw new Error(`no account picker at ${authorize}: ${picker.body.slice(0, 300)}`);
  const picked = await http.post(new URL(authorize), {
    form: { flow, username },
  });
  return { callback: new URL(String(picked.headers.location)), jar };
}

/** Signs in as `username` through the simulator; the cookie header of the session. */
export async function signInAs(
  app: FastifyInstance,
  http: Got,
  username: string,
): Promise<{ status: number; cookie: string; body: string; location: string | undefined }> {
  const { callback, jar } = await callbackFor(app, http, username);
  const done = await app.inject({
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie: cookieHeader(jar) },
  });
  cookiesOf(done.headers['set-cookie'], jar);
  return {
    status: done.statusCode,
    cookie: cookieHeader(jar),
    body: done.body,
    location: done.headers.location,
  };
}

/**
 * A signed-out browser asks for `path`, gets the landing page (401, no session cookie, the
 * "Sign in with Microsoft" button carrying `path` as returnTo), presses the button, picks
 * `username` on the simulator's authorize page and lands back on `path`, signed in.
 */
export async function signInWithButton(
  page: Page,
  dashboard: string,
  path: string,
  username: string,
): Promise<void> {
  const landing = await page.goto(`${dashboard}${path}`);
  expect(landing?.status(), `the landing page for ${path}`).toBe(401);
  expect(landing?.headers()['cache-control']).toBe('no-store');
  const button = page.locator('a.btn-signin');
  await expect(button.innerText()).resolves.toBe('Sign in with Microsoft');
  await expect(button.getAttribute('href')).resolves.toBe(
    `/signin?returnTo=${encodeURIComponent(path)}`,
  );
  const cookies = await page.context().cookies(dashboard);
  expect(cookies.map((c) => c.name)).not.toContain('__Host-fleetscan_session');
  await button.click();
  await page.waitForSelector('text=Pick an account');
  await page.click(`button[name="username"][value="${username}"]`);
  await page.waitForURL(`${dashboard}${path}`);
}
