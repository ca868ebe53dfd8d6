import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { createCampaignStarter } from '../../src/dashboard/start/campaign-starter.js';
import { budgetIdFor } from '../../src/limiter/scan-limiter.js';
import { buildRuntime, type Runtime } from '../../src/runtime/build-runtime.js';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { scanTestConfig, startSimulator } from './scan-fixture.js';

const TOKEN = 'start-test-token-0123456789';
const HOST = 'dash.example:3000';
const BODY_LIMIT = 64 * 1024;
const prefix = uniquePrefix('dash-start');

let sim: Simulator;
let runtime: Runtime;
let app: FastifyInstance;
let csrf = '';
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const started = await startSimulator({ fleet: 60, seed: 11, latencyMs: [1, 3] });
  sim = started.sim;
  closers.push(() => sim.app.close());
  const config = scanTestConfig(testRedisUrl(), prefix, started);
  runtime = await buildRuntime(config, { role: 'dashboard-start-test' });
  closers.push(
    () => cleanupPrefix(testRedisUrl(), prefix),
    () => runtime.close(),
  );
  app = await buildDashboard({
    store: runtime.store,
    redis: runtime.redis,
    stats: runtime.callStats,
    budgets: [{ id: budgetIdFor(config), usage: () => runtime.limiter.usage() }],
    credentials: { token: TOKEN },
    allowActions: true,
    requireNoEviction: true,
    audit: createAuditLog(runtime.redis, prefix),
    starter: createCampaignStarter({
      store: runtime.store,
      lanes: runtime.lanes,
      tenants: runtime.tenants,
      redis: runtime.redis,
      prefix,
      memory: config.retention.memory,
      bodyLimit: BODY_LIMIT,
      // Graph as the evidence sources see it: one incident whose alert names three devices.
      evidence: () => ({
        getIncident: (id: string) =>
          id === '4711'
            ? Promise.resolve({ alerts: [{ evidence: incidentDevices() }] })
            : Promise.reject(new Error(`no incident ${id}`)),
        getAlert: () => Promise.reject(new Error('no alerts here')),
        runHuntingQuery: () => Promise.reject(new Error('no hunting here')),
        close: () => undefined,
      }),
    }),
  });
  closers.push(() => app.close());
  const page = await app.inject({
    url: '/campaigns/new',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(page.statusCode).toBe(200);
  csrf = /data-csrf="([^"]+)"/.exec(page.body)?.[1] ?? '';
  expect(csrf).not.toBe('');
}, 60_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function incidentDevices() {
  return sim.machines.slice(40, 43).map((m) => ({
    '@odata.type': '#microsoft.graph.security.deviceEvidence',
    mdeDeviceId: m.id,
    deviceDnsName: `${m.id.slice(0, 6)}.contoso.example`,
  }));
}

/** A CSV export of `ids`, with a bad value on each of `badLines` (1-based, header on line 1). */
function csv(ids: readonly string[], badLines: readonly number[]): string {
  const lines = ['Device ID,Device Name'];
  let next = 0;
  while (lines.length < ids.length + badLines.length + 1) {
    const line = lines.length + 1;
    lines.push(
      badLines.includes(line)
        ? `not-a-device-${String(line)},x`
        : `${ids[next++] ?? ''},host-${String(line)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function post(
  path: 'preview' | 'start',
  fields: Record<string, string>,
  body?: string,
  token = csrf,
) {
  return app.inject({
    method: 'POST',
    url: `/campaigns/new/${path}?${new URLSearchParams(fields).toString()}`,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      host: HOST,
      origin: `http://${HOST}`,
      'x-csrf-token': token,
      'content-type': 'application/octet-stream',
    },
    ...(body === undefined ? {} : { payload: body }),
  });
}

const base = { source: 'list', file: 'incident.csv', comment: 'Incident 4711', tenant: 'default' };

describe('starting a campaign from the dashboard', () => {
  it('links the new-campaign page from the campaigns page', async () => {
    const home = await app.inject({ url: '/', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(home.body).toContain('href="/campaigns/new"');
  });

  it('previews a CSV: counts, the invalid lines by number, the budget floor, and creates nothing', async () => {
    const ids = sim.machines.slice(0, 57).map((m) => m.id);
    const res = await post('preview', base, csv(ids, [5, 20, 41]));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-devices="57"');
    expect([...res.body.matchAll(/data-invalid-line="(\d+)"/g)].map((m) => m[1])).toEqual([
      '5',
      '20',
      '41',
    ]);
    expect(res.body).toContain('3 invalid lines');
    expect(res.body).toContain('<code>not-a-device-20</code>');
    expect(res.body).toMatch(/data-floor>(now|\d)/);
    expect(res.body).toContain('data-confirm-start');
    expect(await runtime.store.listCampaigns()).toEqual([]);
  });

  it('starts the campaign it previewed, as the signed-in operator, and audits it', async () => {
    const ids = sim.machines.slice(0, 30).map((m) => m.id);
    const res = await post(
      'start',
      { ...base, name: 'Incident 4711 hosts', priority: 'urgent' },
      csv(ids, [3]),
    );
    expect(res.statusCode).toBe(201);
    const { campaignId, location } = res.json<{ campaignId: string; location: string }>();
    expect(location).toBe(`/campaigns/${campaignId}`);
    const campaign = await runtime.store.getCampaign(campaignId);
    expect(campaign).toMatchObject({
      name: 'Incident 4711 hosts',
      total: 30,
      tenant: 'default',
      priority: 'urgent',
      source: 'file:incident.csv',
      createdBy: 'dashboard:token',
    });
    const [entry] = await createAuditLog(runtime.redis, prefix).list();
    expect(entry).toMatchObject({
      action: 'campaign.create',
      target: campaignId,
      who: 'dashboard:token',
      source: 'dashboard',
      outcome: 'ok',
      detail: '30 devices from file:incident.csv, 1 invalid lines left out',
    });
    await runtime.store.setCampaignState(campaignId, 'cancelled');
  });

  it('previews and starts every device of the tenant through List Machines, the same count', async () => {
    const res = await post('preview', { ...base, source: 'all', file: '' });
    expect(res.statusCode).toBe(200);
    const devices = Number(/data-devices="(\d+)"/.exec(res.body)?.[1]);
    expect(devices).toBeGreaterThan(0);
    expect(devices).toBeLessThanOrEqual(60);
    const started = await post('start', { ...base, source: 'all', file: '' });
    expect(started.statusCode).toBe(201);
    const { campaignId } = started.json<{ campaignId: string }>();
    expect((await runtime.store.getCampaign(campaignId))?.total).toBe(devices);
    expect((await runtime.store.getCampaign(campaignId))?.source).toBe('all');
    await runtime.store.setCampaignState(campaignId, 'cancelled');
  });

  it('previews and starts the devices of an incident, recorded as its source', async () => {
    const page = await app.inject({
      url: '/campaigns/new',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(page.body).toContain('<option value="incident">');
    expect(page.body).toContain('<option value="hunting">');
    const fields = { ...base, source: 'incident', incident: '4711', file: '' };
    const preview = await post('preview', fields);
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('data-devices="3"');
    expect(preview.body).toContain('<code>incident:4711</code>');
    const started = await post('start', fields);
    expect(started.statusCode).toBe(201);
    const { campaignId } = started.json<{ campaignId: string }>();
    expect(await runtime.store.getCampaign(campaignId)).toMatchObject({
      total: 3,
      source: 'incident:4711',
    });
    await runtime.store.setCampaignState(campaignId, 'cancelled');
  });

  it('says there is nothing to start when a group matches no device', async () => {
    const res = await post('preview', { ...base, source: 'group', group: 'No such group' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-devices="0"');
    expect(res.body).toContain('Nothing to scan');
    expect(res.body).not.toContain('data-confirm-start');
  });

  it.each([
    ['no comment', { ...base, comment: '' }, 'x', 400, 'comment: required'],
    [
      'an unknown tenant',
      { ...base, tenant: 'fabrikam' },
      'x',
      400,
      'tenant: "fabrikam" is not configured; tenants: default',
    ],
    ['a bad window', { ...base, window: '25:00-05:00' }, 'x', 400, 'window: '],
    [
      'an unknown class',
      { ...base, priority: 'asap' },
      'x',
      400,
      'priority: "asap" is not one; choose urgent, normal, background',
    ],
    [
      'a query source without a query',
      { ...base, source: 'query' },
      undefined,
      400,
      'query: required',
    ],
    ['an empty list', base, '  \n', 400, 'devices: the list is empty'],
    ['no list at all', base, undefined, 400, 'paste machine ids or choose a file'],
    [
      'an incident without its number',
      { ...base, source: 'incident' },
      undefined,
      400,
      'incident: required',
    ],
    [
      'an incident id that is not one',
      { ...base, source: 'incident', incident: '47-11' },
      undefined,
      400,
      "incident must be an incident's number",
    ],
    [
      'an empty hunting query',
      { ...base, source: 'hunting' },
      ' ',
      400,
      'the hunting query: it is empty',
    ],
    [
      'a list over api.bodyLimit',
      base,
      `${'a'.repeat(40)}\n`.repeat(2_000),
      413,
      'The device list is larger than 64 KiB (65,536 bytes, api.bodyLimit): split it',
    ],
  ] as const)(
    'refuses %s, naming what is wrong, and creates nothing',
    async (_what, fields, body, status, says) => {
      const before = (await runtime.store.listCampaigns()).length;
      for (const path of ['preview', 'start'] as const) {
        const res = await post(path, fields, body);
        expect(res.statusCode, path).toBe(status);
        expect(res.json<{ error: string }>().error, path).toContain(says);
      }
      expect((await runtime.store.listCampaigns()).length).toBe(before);
      const [entry] = await createAuditLog(runtime.redis, prefix).list();
      expect([entry?.action, entry?.outcome]).toEqual(['campaign.create', 'refused']);
      expect(entry?.detail).toContain(says);
    },
  );

  it('refuses a start without the action token or from another site', async () => {
    const ids = sim.machines.slice(0, 3).map((m) => m.id);
    const before = (await runtime.store.listCampaigns()).length;
    expect((await post('start', base, ids.join('\n'), 'forged')).statusCode).toBe(403);
    const cross = await app.inject({
      method: 'POST',
      url: `/campaigns/new/start?${new URLSearchParams(base).toString()}`,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        host: HOST,
        origin: 'https://evil.example',
        'x-csrf-token': csrf,
        'content-type': 'application/octet-stream',
      },
      payload: ids.join('\n'),
    });
    expect(cross.statusCode).toBe(403);
    expect((await runtime.store.listCampaigns()).length).toBe(before);
  });
});

describe('without --allow-actions', () => {
  it('has no new-campaign page, link or routes', async () => {
    const readOnly = await buildDashboard({
      store: runtime.store,
      redis: runtime.redis,
      stats: runtime.callStats,
      budgets: [],
      credentials: { token: TOKEN },
      allowActions: false,
      requireNoEviction: true,
      starter: createCampaignStarter({
        store: runtime.store,
        lanes: runtime.lanes,
        tenants: runtime.tenants,
        redis: runtime.redis,
        prefix,
        memory: { bytesPerDevice: 400, warnAt: 0.8, refuseAt: 0.9 },
        bodyLimit: BODY_LIMIT,
      }),
    });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      expect((await readOnly.inject({ url: '/', headers: auth })).body).not.toContain(
        '/campaigns/new',
      );
      expect((await readOnly.inject({ url: '/campaigns/new', headers: auth })).statusCode).toBe(
        404,
      );
    } finally {
      await readOnly.close();
    }
  });
});
