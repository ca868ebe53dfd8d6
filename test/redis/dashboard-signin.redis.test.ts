import type { FastifyInstance } from 'fastify';
import type { Got } from 'got';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { signOutTokenFor } from '../../src/dashboard/signin/signin-routes.js';
import { signInFromConfig } from '../../src/runtime/signin-from-config.js';
import type { Clock } from '../../src/shared/clock.js';
import type { IdTokenFault, Simulator } from '../../src/simulator/build-simulator.js';
import {
  callbackFor,
  cookieHeader,
  OPERATOR_GROUP,
  signInAs,
  startSignInSimulator,
  trustingNetwork,
} from '../helpers/entra-signin.js';
import { testRedisUrl } from '../helpers/redis.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

let sim: Simulator;
let simUrl = '';
let http: Got;
let fx: DashboardFixture;
let app: FastifyInstance;
let now = Date.now();
const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };

beforeAll(async () => {
  ({ sim, url: simUrl, http } = await startSignInSimulator());
}, 30_000);
afterAll(async () => {
  await sim.close();
});

async function dashboard(allowActions = true) {
  const config = loadConfig({
    env: { DASHBOARD_SECRET: sim.credentials.clientSecret },
    overrides: {
      'redis.url': testRedisUrl(),
      'redis.prefix': fx.prefix,
      'dashboard.auth': 'entra',
      'dashboard.allowActions': allowActions,
      'dashboard.entra.tenantId': sim.credentials.tenantId,
      'dashboard.entra.clientId': sim.credentials.clientId,
      'dashboard.entra.clientSecretEnv': 'DASHBOARD_SECRET',
      'dashboard.entra.authorityHost': simUrl,
      'dashboard.entra.redirectUri': 'http://127.0.0.1:3000/signin/callback',
      'dashboard.entra.groups': { [OPERATOR_GROUP]: 'operator' },
      'dashboard.entra.idleTimeout': '30m',
      'dashboard.entra.absoluteTimeout': '8h',
    },
  });
  const signIn = signInFromConfig(config, {
    redis: fx.redis,
    clock,
    log: pino({ level: 'silent' }),
    network: trustingNetwork(http),
  });
  app = await buildDashboard(
    fx.deps({
      credentials: config.dashboard,
      signIn,
      allowActions,
      clock,
      audit: createAuditLog(fx.redis, fx.prefix),
    }),
  );
  return app;
}

beforeEach(() => {
  fx = dashboardFixture();
  now = Date.now();
  sim.setIdTokenFault(null);
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

/** The sign-out form's token in a page's header. */
const signOutTokenOf = (body: string) => {
  const token = /name="signout-token" value="([^"]+)"/.exec(body)?.[1];
  if (!token) throw new Error('no sign-out form in the page');
  return token;
};

const page = (cookie: string, url = '/') =>
  app.inject({ url, headers: { cookie, accept: 'text/html' } });

describe('dashboard sign-in with Entra ID (simulated tenant)', () => {
  it('shows a visitor without a session the sign-in button; fragments, exports, events and writes get a JSON 401', async () => {
    await dashboard();
    const res = await page('', '/campaigns/x?state=failed');
    expect(res.statusCode).toBe(401);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('Sign in with Microsoft');
    expect(res.body).toContain('href="/signin?returnTo=%2Fcampaigns%2Fx%3Fstate%3Dfailed"');
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    // A return address off this dashboard is not carried along.
    expect((await page('', '//evil.example/x')).body).toContain('href="/signin?returnTo=%2F"');
    const asJson = { accept: 'text/html, application/json' };
    for (const url of [
      '/fragments/overview',
      '/events/overview',
      '/campaigns/x/export.csv',
      '/audit/export.json',
    ]) {
      const denied = await app.inject({ url, headers: asJson });
      expect(denied.statusCode, url).toBe(401);
      expect(denied.json(), url).toEqual({ error: 'sign in first', signIn: '/signin' });
    }
    const write = await app.inject({
      method: 'POST',
      url: '/campaigns/x/pause',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'csrf=x',
    });
    expect(write.statusCode).toBe(401);
    expect(write.json()).toMatchObject({ error: 'sign in first' });
    const start = await app.inject({ url: '/signin' });
    const authorize = new URL(String(start.headers.location));
    expect(authorize.origin + authorize.pathname).toBe(
      `${simUrl}/${sim.credentials.tenantId}/oauth2/v2.0/authorize`,
    );
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(String(start.headers['set-cookie'])).toMatch(
      /^__Host-fleetscan_signin=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/,
    );
  });

  it('signs a viewer in with a session cookie; every action answers 403 naming the role', async () => {
    await dashboard();
    const seeded = await seedCampaign(fx.store, {
      name: 'Weekly sweep',
      total: 3,
      requested: 1,
      failed: 1,
      deferred: 0,
    });
    const vera = await signInAs(app, http, 'vera@contoso.test');
    expect(vera.status).toBe(303);
    expect(vera.location).toBe('/');
    expect(vera.cookie).toMatch(/__Host-fleetscan_session=/);
    const home = await page(vera.cookie);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('Weekly sweep');
    expect(home.body).toContain('Vera Viewer');
    const campaign = await page(vera.cookie, `/campaigns/${seeded.id}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(campaign.body)?.[1];
    expect(csrf).toBeTruthy();
    for (const action of ['pause', 'resume', 'cancel', 'cancel-actions', 'retry-failed']) {
      const res = await app.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/${action}`,
        headers: { cookie: vera.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${csrf ?? ''}&confirm=${encodeURIComponent('Weekly sweep')}`,
      });
      expect(res.statusCode, action).toBe(403);
      expect(res.body, action).toContain('This needs the FleetScan.Operator role');
      expect(res.body, action).toContain('vera@contoso.test holds FleetScan.Viewer');
    }
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
    const entries = await createAuditLog(fx.redis, fx.prefix).list();
    const pause = entries.find((e) => e.action === 'campaign.pause');
    expect(pause).toMatchObject({
      who: 'dashboard:vera@contoso.test',
      outcome: 'refused',
      status: 403,
      oid: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
    expect(entries.find((e) => e.action === 'dashboard.signin')).toMatchObject({
      who: 'dashboard:vera@contoso.test',
      outcome: 'ok',
    });
  });

  it('lets an operator (app role) and a mapped group member pause, audited with UPN and oid', async () => {
    await dashboard();
    const seeded = await seedCampaign(fx.store, {
      name: 'Incident',
      total: 2,
      requested: 0,
      failed: 0,
      deferred: 0,
    });
    for (const [user, target] of [
      ['otto@contoso.test', 'pause'],
      ['greta@contoso.test', 'resume'],
    ] as const) {
      const signedIn = await signInAs(app, http, user);
      const campaign = await page(signedIn.cookie, `/campaigns/${seeded.id}`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(campaign.body)?.[1] ?? '';
      const res = await app.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/${target}`,
        headers: { cookie: signedIn.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${csrf}`,
      });
      expect(res.statusCode, user).toBe(303);
    }
    const entries = await createAuditLog(fx.redis, fx.prefix).list();
    const oidOf = (upn: string) => entries.find((e) => e.who === `dashboard:${upn}`)?.oid;
    expect(entries.find((e) => e.action === 'campaign.pause')).toMatchObject({
      who: 'dashboard:otto@contoso.test',
      outcome: 'ok',
    });
    expect(oidOf('otto@contoso.test')).toMatch(/^[0-9a-f-]{36}$/);
    expect(oidOf('greta@contoso.test')).not.toBe(oidOf('otto@contoso.test'));
  });

  it('refuses a person without any FleetScan role, and group overage, saying what to do', async () => {
    await dashboard();
    const nora = await signInAs(app, http, 'nora@contoso.test');
    expect(nora.status).toBe(403);
    expect(nora.body).toContain('nora@contoso.test holds no FleetScan role');
    expect(nora.cookie).not.toMatch(/fleetscan_session/);
    const olga = await signInAs(app, http, 'olga@contoso.test');
    expect(olga.status).toBe(403);
    expect(olga.body).toContain('more than 200 groups');
    expect(olga.body).toContain('groupOverage');
  });

  it.each([
    ['expired', 'has expired'],
    ['bad-signature', 'signature does not verify'],
    ['wrong-nonce', 'nonce'],
    ['wrong-audience', 'another application'],
    ['wrong-issuer', 'was issued by'],
  ] as [IdTokenFault, string][])('refuses an ID token that is %s', async (fault, says) => {
    await dashboard();
    sim.setIdTokenFault(fault);
    const res = await signInAs(app, http, 'ada@contoso.test');
    expect(res.status).toBe(400);
    expect(res.body).toContain(says);
    expect(res.cookie).not.toMatch(/fleetscan_session/);
  });

  it('refuses a replayed callback, a replayed code, a made-up state and another browser', async () => {
    await dashboard();
    const { callback, jar } = await callbackFor(app, http, 'ada@contoso.test');
    const path = `${callback.pathname}${callback.search}`;
    const first = await app.inject({ url: path, headers: { cookie: cookieHeader(jar) } });
    expect(first.statusCode).toBe(303);
    const again = await app.inject({ url: path, headers: { cookie: cookieHeader(jar) } });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('already used');

    // The same code under a state this browser really started: Entra refuses the second use.
    const fresh = await callbackFor(app, http, 'ada@contoso.test');
    const stolen = new URL(fresh.callback);
    stolen.searchParams.set('code', callback.searchParams.get('code') ?? '');
    const replayed = await app.inject({
      url: `${stolen.pathname}${stolen.search}`,
      headers: { cookie: cookieHeader(fresh.jar) },
    });
    expect(replayed.statusCode).toBe(400);
    expect(replayed.body).toContain('AADSTS54005');

    const madeUp = await app.inject({
      url: '/signin/callback?code=x&state=00000000-0000-4000-8000-000000000000',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(madeUp.statusCode).toBe(400);
    const other = await callbackFor(app, http, 'ada@contoso.test');
    const elsewhere = await app.inject({
      url: `${other.callback.pathname}${other.callback.search}`,
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.body).toContain('another browser');
  });

  it('ends a session when idle, at its absolute limit, and on sign-out', async () => {
    await dashboard();
    // Each sign-in happens at the real time: the ID token's expiry is checked against the clock.
    const idle = await signInAs(app, http, 'vera@contoso.test');
    now += 29 * 60_000;
    expect((await page(idle.cookie)).statusCode).toBe(200);
    now += 29 * 60_000; // used 29 minutes ago: still alive
    expect((await page(idle.cookie)).statusCode).toBe(200);
    now += 30 * 60_000;
    expect((await page(idle.cookie)).statusCode).toBe(401);

    now = Date.now();
    const busy = await signInAs(app, http, 'vera@contoso.test');
    for (let i = 0; i < 17; i++) {
      now += 29 * 60_000;
      await page(busy.cookie);
    }
    expect((await page(busy.cookie)).statusCode).toBe(401); // 8 h 13 min after sign-in

    now = Date.now();
    const leaving = await signInAs(app, http, 'vera@contoso.test');
    const token = signOutTokenOf((await page(leaving.cookie)).body);
    const signOut = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/signout',
        headers: { cookie: leaving.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
    // Without the form's token (or with another session's) nothing ends.
    for (const payload of [
      '',
      'signout-token=x',
      `signout-token=${signOutTokenFor('another session')}`,
    ]) {
      const refused = await signOut(payload);
      expect(refused.statusCode, payload).toBe(403);
      expect(refused.json(), payload).toEqual({ error: 'missing or wrong sign-out token' });
    }
    expect((await page(leaving.cookie)).statusCode).toBe(200);
    const out = await signOut(`signout-token=${encodeURIComponent(token)}`);
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/signed-out');
    expect(String(out.headers['set-cookie'])).toMatch(/__Host-fleetscan_session=; .*Max-Age=0/);
    expect((await page(leaving.cookie)).statusCode).toBe(401);
    const signedOut = await page('', '/signed-out');
    expect(signedOut.statusCode).toBe(200);
    expect(signedOut.body).toContain('href="/signin?returnTo=%2F"');
    expect(signedOut.body).toContain('Sign in with Microsoft');
  });

  it('lets a read-only dashboard sign people out', async () => {
    await dashboard(false);
    const vera = await signInAs(app, http, 'vera@contoso.test');
    const token = signOutTokenOf((await page(vera.cookie)).body);
    const out = await app.inject({
      method: 'POST',
      url: '/signout',
      headers: { cookie: vera.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `signout-token=${encodeURIComponent(token)}`,
    });
    expect(out.statusCode).toBe(303);
  });
});
