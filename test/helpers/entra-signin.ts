import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { FastifyInstance } from 'fastify';
import { got, type Got } from 'got';
import { buildSimulator, type Simulator } from '../../src/simulator/build-simulator.js';
import type { SimUserInput } from '../../src/simulator/options.js';
import { createSelfSignedCertificate } from '../../src/simulator/tls.js';

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

/**
 * HTTP for MSAL and the JWKS that trusts the simulator's certificate (Node reads
 * NODE_EXTRA_CA_CERTS only at start, too late for a test that makes its certificate).
 */
export function trustingNetwork(http: Got): {
  msal: INetworkModule;
  fetchJson: (url: string) => Promise<unknown>;
} {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const response = await http(url, {
      method,
      headers: options?.headers,
      ...(options?.body === undefined ? {} : { body: options.body }),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(response.headers)) headers[k] = String(v);
    return { headers, body: JSON.parse(response.body) as T, status: response.statusCode };
  };
  return {
    msal: {
      sendGetRequestAsync: (url, options) => send('GET', url, options),
      sendPostRequestAsync: (url, options) => send('POST', url, options),
    },
    fetchJson: async (url) => JSON.parse((await http(url)).body) as unknown,
  };
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
