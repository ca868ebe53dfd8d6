import { afterEach, describe, expect, it } from 'vitest';
import { CreatedCampaignSchema, ControlResultSchema } from '../../src/api/campaign-schemas.js';
import { ProblemSchema } from '../../src/api/problem.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixture(options: Parameters<typeof startApiFixture>[0] = {}): Promise<ApiFixture> {
  const t = await startApiFixture({ worker: false, ...options });
  cleanups.push(() => t.close());
  return t;
}

describe('API limits and ports', () => {
  it('rate-limits each token on its own, with a 429 problem and Retry-After', async () => {
    const t = await fixture({ overrides: { 'api.rateLimitMax': 3, 'api.rateLimitWindow': '1m' } });
    const busy = await t.token(['read']);
    const calm = await t.token(['read']);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await t.call('GET', '/campaigns', { token: busy })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await t.call('GET', '/campaigns', { token: busy });
    expect(ProblemSchema.parse(limited.json).type).toMatch(/rate-limited$/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await t.call('GET', '/campaigns', { token: calm })).status).toBe(200);
  });

  it('calls the kill switch port for cancel with actions and passes its answer on', async () => {
    const calls: string[] = [];
    const t = await fixture({
      cancelActions: (id) => {
        calls.push(id);
        return Promise.resolve({ cancelRequested: 3 });
      },
    });
    const token = await t.token(['write']);
    const created = await t.call('POST', '/campaigns', {
      token,
      body: { devices: t.sim.machines.slice(0, 5).map((m) => m.id), comment: 'kill' },
    });
    const { campaign } = CreatedCampaignSchema.parse(created.json);
    const r = await t.call('POST', `/campaigns/${campaign.id}/cancel`, {
      token,
      body: { actions: true },
      headers: { 'idempotency-key': 'kill-1' },
    });
    expect(r.status).toBe(200);
    const result = ControlResultSchema.parse(r.json);
    expect(result).toMatchObject({
      state: 'cancelled',
      devicesCancelled: 5,
      actions: { cancelRequested: 3 },
    });
    expect(calls).toEqual([campaign.id]);
    // A repeat of the same request is answered from the first, without a second kill switch call.
    const again = await t.call('POST', `/campaigns/${campaign.id}/cancel`, {
      token,
      body: { actions: true },
      headers: { 'idempotency-key': 'kill-1' },
    });
    expect(again.text).toBe(r.text);
    expect(calls).toHaveLength(1);
  });

  it('refuses malformed Idempotency-Keys, bodies that are not JSON and bodies too large', async () => {
    const t = await fixture({ overrides: { 'api.bodyLimit': 2_048 } });
    const token = await t.token(['write']);
    const key = await t.call('POST', '/campaigns', {
      token,
      body: { devices: ['a'.repeat(40)], comment: 'x' },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(key.status).toBe(400);
    const response = await fetch(`${t.base}/api/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"devices": [',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const big = await t.call('POST', '/campaigns', {
      token,
      body: { devices: Array.from({ length: 100 }, () => 'a'.repeat(40)), comment: 'x' },
    });
    expect(big.status).toBe(413);
    expect(ProblemSchema.parse(big.json).type).toMatch(/payload-too-large$/);
    const text = await fetch(`${t.base}/api/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'a',
    });
    expect(text.status).toBe(415);
  });

  it('serves the API from the dashboard with API tokens while the dashboard keeps its own auth', async () => {
    const t = await fixture();
    const app = await buildDashboard({
      store: t.runtime.store,
      redis: t.runtime.redis,
      stats: t.runtime.callStats,
      budgets: [],
      credentials: { token: 'dashboard-token-0123456789' },
      allowActions: false,
      requireNoEviction: false,
      api: t.services.deps,
    });
    cleanups.push(() => app.close());
    const apiToken = await t.token(['write']);
    const viaApi = await app.inject({
      method: 'POST',
      url: '/api/v1/campaigns',
      headers: { authorization: `Bearer ${apiToken}` },
      payload: { devices: [t.sim.machines[0]?.id], comment: 'from dashboard process' },
    });
    expect(viaApi.statusCode).toBe(201);
    // The dashboard token is not an API token, and an API token does not open the dashboard.
    const dashOnApi = await app.inject({
      url: '/api/v1/campaigns',
      headers: { authorization: 'Bearer dashboard-token-0123456789' },
    });
    expect(dashOnApi.statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/', headers: { authorization: `Bearer ${apiToken}` } })).statusCode,
    ).toBe(401);
    // Cross-site form posts to the dashboard stay refused.
    const csrf = await app.inject({
      method: 'POST',
      url: '/campaigns/c-000000000000/cancel',
      headers: {
        authorization: 'Bearer dashboard-token-0123456789',
        origin: 'https://evil.example',
      },
    });
    expect(csrf.statusCode).toBe(403);

    const dash = { authorization: 'Bearer dashboard-token-0123456789' };
    const page = await app.inject({ url: '/audit', headers: dash });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('campaign.create');
    expect(page.body).toContain('token:test-');
    const csv = await app.inject({ url: '/audit/export.csv', headers: dash });
    expect(csv.body.split('\r\n')[0]).toBe(
      'id,at,who,action,target,from,status,detail,source,outcome,oid',
    );
    expect(csv.body).toContain('campaign.create');
    const ndjson = await app.inject({ url: '/audit/export.ndjson', headers: dash });
    expect(JSON.parse(ndjson.body.trim().split('\n')[0] ?? '{}')).toMatchObject({
      action: 'campaign.create',
      status: 201,
      source: 'api',
      outcome: 'ok',
    });
  });
});
