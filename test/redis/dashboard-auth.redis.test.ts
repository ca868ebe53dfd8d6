import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/dashboard/auth.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { dashboardFixture, seedCampaign, type DashboardFixture } from './dashboard-fixture.js';

const TOKEN = 'test-token-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

let fx: DashboardFixture;
let app: FastifyInstance;

beforeEach(() => {
  fx = dashboardFixture();
});
afterEach(async () => {
  await app.close();
  await fx.close();
});

describe('dashboard auth', () => {
  it('refuses every data route without credentials and asks the browser for them', async () => {
    app = await buildDashboard(fx.deps());
    for (const url of ['/', '/fragments/overview', '/metrics', '/campaigns/c-000000000000']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="fleetscan"/);
      expect(res.body).not.toContain(TOKEN);
    }
    expect(
      (await app.inject({ url: '/', headers: { authorization: 'Bearer wrong' } })).statusCode,
    ).toBe(401);
  });

  it('lets a bearer token in, and a browser login with the token as password', async () => {
    app = await buildDashboard(fx.deps());
    expect((await app.inject({ url: '/', headers: bearer })).statusCode).toBe(200);
    expect((await app.inject({ url: '/', headers: basic('wallscreen', TOKEN) })).statusCode).toBe(
      200,
    );
  });

  it('checks basic credentials against the scrypt hash', async () => {
    const passwordHash = await hashPassword('correct horse battery');
    app = await buildDashboard(fx.deps({ credentials: { user: 'ops', passwordHash } }));
    expect(
      (await app.inject({ url: '/', headers: basic('ops', 'correct horse battery') })).statusCode,
    ).toBe(200);
    expect((await app.inject({ url: '/', headers: basic('ops', 'wrong') })).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/', headers: basic('eve', 'correct horse battery') })).statusCode,
    ).toBe(401);
    // No token configured: a bearer header proves nothing.
    expect((await app.inject({ url: '/', headers: { authorization: 'Bearer ' } })).statusCode).toBe(
      401,
    );
  });

  it('keeps the probes and assets public', async () => {
    app = await buildDashboard(fx.deps());
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/static/dashboard.css' })).statusCode).toBe(200);
  });

  it('without credentials serves only loopback clients under a loopback host name', async () => {
    app = await buildDashboard(fx.deps({ credentials: {} }));
    expect((await app.inject({ url: '/', headers: { host: '127.0.0.1:3000' } })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ url: '/', headers: { host: 'localhost:3000' } })).statusCode).toBe(
      200,
    );
    // DNS rebinding: an attacker's name resolving to 127.0.0.1.
    expect(
      (await app.inject({ url: '/', headers: { host: 'evil.example:3000' } })).statusCode,
    ).toBe(403);
    const remote = await app.inject({
      url: '/',
      remoteAddress: '10.0.0.7',
      headers: { host: '127.0.0.1' },
    });
    expect(remote.statusCode).toBe(403);
  });

  it('never puts a secret in a page', async () => {
    const passwordHash = await hashPassword('correct horse battery');
    app = await buildDashboard(
      fx.deps({ credentials: { token: TOKEN, user: 'ops', passwordHash }, allowActions: true }),
    );
    const seeded = await seedCampaign(fx.store, {
      name: 'secrets',
      total: 5,
      requested: 2,
      failed: 1,
      deferred: 1,
    });
    for (const url of [
      '/',
      '/fragments/overview',
      `/campaigns/${seeded.id}`,
      '/metrics',
      '/queues',
    ]) {
      const res = await app.inject({ url, headers: bearer });
      expect(res.body).not.toContain(TOKEN);
      expect(res.body).not.toContain(passwordHash.split('$').at(-1));
    }
  });
});

describe('dashboard actions', () => {
  const form = (csrf: string) => ({
    'content-type': 'application/x-www-form-urlencoded',
    payload: `csrf=${encodeURIComponent(csrf)}`,
  });

  async function tokenFrom(app: FastifyInstance, campaignId: string): Promise<string> {
    const page = await app.inject({ url: `/campaigns/${campaignId}`, headers: bearer });
    const match = /name="csrf" value="([^"]+)"/.exec(page.body);
    expect(match, 'the campaign page carries the action token').not.toBeNull();
    return match![1]!;
  }

  it('has no action buttons or routes without --allow-actions', async () => {
    app = await buildDashboard(fx.deps());
    const seeded = await seedCampaign(fx.store, {
      name: 'ro',
      total: 3,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const page = await app.inject({ url: `/campaigns/${seeded.id}`, headers: bearer });
    expect(page.body).not.toMatch(/action="\/campaigns\/[^"]+\/(pause|resume|cancel)"/);
    const { payload, ...headers } = form('x');
    const res = await app.inject({
      method: 'POST',
      url: `/campaigns/${seeded.id}/pause`,
      headers: { ...bearer, ...headers },
      payload,
    });
    expect(res.statusCode).toBe(403);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
  });

  it('pauses, resumes and cancels with the token from a same-origin form', async () => {
    app = await buildDashboard(fx.deps({ allowActions: true }));
    const seeded = await seedCampaign(fx.store, {
      name: 'rw',
      total: 3,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const csrf = await tokenFrom(app, seeded.id);
    const { payload, ...type } = form(csrf);
    const post = (action: string, extra = '') =>
      app.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/${action}`,
        headers: {
          ...bearer,
          ...type,
          host: 'dash.example:3000',
          origin: 'http://dash.example:3000',
        },
        payload: payload + extra,
      });
    expect((await post('pause')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('paused');
    expect((await post('resume')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
    expect((await post('cancel', '&confirmName=rw')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('cancelled');
  });

  it('takes a form post that says Origin: null (no-referrer) when Sec-Fetch-Site says same-origin', async () => {
    app = await buildDashboard(fx.deps({ allowActions: true }));
    const seeded = await seedCampaign(fx.store, {
      name: 'null-origin',
      total: 3,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const csrf = await tokenFrom(app, seeded.id);
    const { payload, ...type } = form(csrf);
    const post = (site: string) =>
      app.inject({
        method: 'POST',
        url: `/campaigns/${seeded.id}/pause`,
        headers: {
          ...bearer,
          ...type,
          host: 'dash.example:3000',
          origin: 'null',
          'sec-fetch-site': site,
        },
        payload,
      });
    for (const site of ['cross-site', 'same-site', 'none']) {
      expect((await post(site)).statusCode, site).toBe(403);
    }
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
    expect((await post('same-origin')).statusCode).toBe(303);
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('paused');
  });

  it('refuses cross-site requests and requests without the action token', async () => {
    app = await buildDashboard(fx.deps({ allowActions: true }));
    const seeded = await seedCampaign(fx.store, {
      name: 'csrf',
      total: 3,
      requested: 1,
      failed: 0,
      deferred: 0,
    });
    const csrf = await tokenFrom(app, seeded.id);
    const url = `/campaigns/${seeded.id}/cancel`;
    const host = 'dash.example:3000';
    const attempts = [
      { ...form(csrf), origin: 'https://evil.example' },
      { ...form(csrf), origin: 'null' },
      { ...form(csrf), origin: 'null', 'sec-fetch-site': 'cross-site' },
      { ...form(csrf), 'sec-fetch-site': 'cross-site' },
      { ...form('forged'), origin: `http://${host}` },
      { ...form(''), origin: `http://${host}` },
    ];
    for (const { payload, ...headers } of attempts) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...bearer, host, ...headers },
        payload,
      });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
    }
    expect((await fx.store.getCampaign(seeded.id))?.state).toBe('running');
  });
});
