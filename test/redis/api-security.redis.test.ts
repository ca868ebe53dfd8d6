import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Job } from 'bullmq';
import { trimAudit } from '../../src/audit/audit-trim.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CreatedCampaignSchema } from '../../src/api/campaign-schemas.js';
import { systemClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { createDrainProcessor, type SendWebhook } from '../../src/webhooks/deliver-webhooks.js';
import { createDestinationGuard, type Resolve } from '../../src/webhooks/webhook-destination.js';
import { tenantBlockEvent } from '../../src/webhooks/source-events.js';
import type { DrainJobData } from '../../src/webhooks/webhook-queue.js';
import { eventually, startApiFixture, type ApiFixture } from './api-fixture.js';
import { startReceiver } from './webhook-receiver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixture(options: Parameters<typeof startApiFixture>[0] = {}): Promise<ApiFixture> {
  const t = await startApiFixture({ worker: false, ...options });
  cleanups.push(() => t.close());
  return t;
}

async function createCampaign(t: ApiFixture, token: string): Promise<string> {
  const created = await t.call('POST', '/campaigns', {
    token,
    body: { devices: t.sim.machines.slice(0, 2).map((m) => m.id), comment: 'target' },
  });
  expect(created.status).toBe(201);
  return CreatedCampaignSchema.parse(created.json).campaign.id;
}

const FIVE_SSRF = [
  'https://169.254.169.254/latest/meta-data/',
  'https://[::1]/hook',
  'https://0.0.0.0/hook',
  'https://2130706433/hook',
  'https://10.1.2.3/hook',
];

describe('API hardening (issue 27)', () => {
  it('throttles a read-token flood of writes with 429s and keeps it to a few audit entries', async () => {
    const t = await fixture({
      overrides: {
        'api.rateLimitMax': 50,
        'api.rateLimitWindow': '1m',
        'api.auditMaxEntries': 100_000,
      },
    });
    const writer = await t.token(['write']);
    const reader = await t.token(['read']);
    const id = await createCampaign(t, writer);
    const real = await t.call('POST', `/campaigns/${id}/pause`, { token: writer });
    expect(real.status).toBe(200);

    const statuses = new Map<number, number>();
    for (let round = 0; round < 60; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.call('POST', `/campaigns/${id}/pause`, { token: reader }),
        ),
      );
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    expect(statuses.get(403)).toBe(50);
    expect(statuses.get(429)).toBe(550);

    // Audit entries are written after each answer went out: wait for the last of them.
    const readAudit = async () => {
      const all = [];
      for await (const entry of t.services.deps.audit.iterate()) all.push(entry);
      return all;
    };
    const entries = await eventually(
      async () => {
        const all = await readAudit();
        const mine = all.filter((e) => e.who.startsWith('token:test-2/'));
        const details = mine.map((e) => e.detail).join('\n');
        // Settled: both groups at their final count, each previous entry removed.
        return mine.length === 2 &&
          /denied ×50 since /.test(details) &&
          /denied ×550 since /.test(details)
          ? all
          : undefined;
      },
      () => 'the flood did not settle into two entries, ×50 and ×550',
    );
    // The reader is the fixture's second token: one counted entry per (token, route, status)
    // and window, 403 ×50 and 429 ×550, out of a stream that keeps 100,000.
    const flood = entries.filter((e) => e.who.startsWith('token:test-2/'));
    expect(flood.length).toBeLessThanOrEqual(2);
    expect(flood.length).toBeLessThanOrEqual(0.01 * 100_000);
    expect(flood.map((e) => e.detail).join('\n')).toMatch(/denied ×50 since .*"write" scope/);
    // The real write is still there.
    expect(entries.filter((e) => e.action === 'campaign.pause' && e.status === 200)).toHaveLength(
      1,
    );
    expect(await t.services.deps.denials.totals()).toMatchObject({ '403': 50, '429': 550 });
  });

  it('answers forged tokens from one address at most five times a second, then 429', async () => {
    const t = await fixture();
    const started = Date.now();
    let unauthorized = 0;
    let throttled = 0;
    for (let i = 0; i < 200; i += 1) {
      const forged = `fst_0123456789_${'A'.repeat(42)}${String(i % 10)}`;
      const r = await t.call('GET', '/campaigns', { token: forged });
      if (r.status === 401) unauthorized += 1;
      if (r.status === 429) throttled += 1;
    }
    const seconds = (Date.now() - started) / 1000;
    expect(unauthorized + throttled).toBe(200);
    expect(unauthorized).toBeLessThanOrEqual(5 * Math.ceil(seconds + 1));
    expect(throttled).toBeGreaterThan(0);
  });

  it('raises security.denials to an all-tenant subscriber once a flood reaches the threshold', async () => {
    const t = await fixture({
      overrides: { 'api.denialAlert': 20, 'api.rateLimitMax': 10_000 },
    });
    t.startWorker();
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close());
    const admin = await t.token(['write']);
    const sub = await t.call('POST', '/webhooks', {
      token: admin,
      body: { url: `${receiver.url}/sec`, events: ['security.denials'] },
    });
    expect(sub.status).toBe(201);
    secrets['/sec'] = (sub.json as { secret: string }).secret;
    const limited = await t.token(['write'], ['default']);
    const refused = await t.call('POST', '/webhooks', {
      token: limited,
      body: { url: `${receiver.url}/x`, events: ['security.denials'], tenant: 'default' },
    });
    expect(refused.status).toBe(403);

    const reader = await t.token(['read']);
    for (let i = 0; i < 25; i += 1) {
      expect(
        (await t.call('POST', '/campaigns/c-000000000000/pause', { token: reader })).status,
      ).toBe(403);
    }
    const event = await eventually(
      () => Promise.resolve(receiver.firstSeen.find((e) => e.type === 'security.denials')),
      () => 'no security.denials event',
    );
    expect(event.path).toBe('/sec');
    expect(receiver.firstSeen.filter((e) => e.type === 'security.denials')).toHaveLength(1);
  });

  it('refuses the five SSRF destinations, and a name resolving inside, at subscribe time', async () => {
    const resolve: Resolve = (hostname) =>
      hostname === 'inside.example'
        ? Promise.resolve([{ address: '10.9.8.7', family: 4 }])
        : Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    // The fixture's allow-list (127.0.0.1/32, http) is replaced by the defaults here.
    const t = await fixture({
      resolve,
      overrides: { 'webhooks.allowHttp': false, 'webhooks.allowNetworks': [] },
    });
    const token = await t.token(['write']);
    for (const url of [...FIVE_SSRF, 'https://inside.example/hook', 'http://203.0.113.9/']) {
      const r = await t.call('POST', '/webhooks', {
        token,
        body: { url, events: ['campaign.finished'] },
      });
      expect(r.status, url).toBe(400);
      expect(r.text, url).toMatch(/body\.url: .*(internal address|use https)/);
    }
    expect(await t.services.deps.webhooks.list()).toEqual([]);
  });

  it('refuses internal receivers at delivery time, after DNS rebinding too, sending nothing', async () => {
    let answer = '203.0.113.10';
    const resolve: Resolve = (hostname) =>
      hostname === 'rebind.example'
        ? Promise.resolve([{ address: answer, family: 4 }])
        : Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    const t = await fixture({
      resolve,
      overrides: { 'webhooks.allowHttp': false, 'webhooks.allowNetworks': [] },
    });
    const token = await t.token(['write']);
    // Accepted at subscribe time while the name answers a public address…
    const created = await t.call('POST', '/webhooks', {
      token,
      body: { url: 'https://rebind.example/hook', events: ['tenant.blocked'] },
    });
    expect(created.status).toBe(201);
    // …then it answers a private one. The five literals are written past the API (a config
    // edit, or someone with Redis access), as only the delivery-time check can stop them.
    answer = '10.0.0.9';
    const store = t.services.deps.webhooks;
    const ids = [(created.json as { subscription: { id: string } }).subscription.id];
    for (const url of FIVE_SSRF) {
      const { subscription } = await store.subscribe({
        url,
        events: ['tenant.blocked'],
        tenant: null,
        campaignId: null,
        createdAt: Date.now() - 1_000,
        createdBy: 'test',
      });
      ids.push(subscription.id);
    }
    await t.services.close();
    await store.emit(tenantBlockEvent('default', true, Date.now(), 'test'));

    const sent: string[] = [];
    const send: SendWebhook = (url) => {
      sent.push(url);
      return Promise.reject(new Error('a refused receiver was sent to'));
    };
    const drain = createDrainProcessor({
      store,
      guard: createDestinationGuard({ allowHttp: false, allowNetworks: [] }, resolve),
      send,
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      settings: {
        attempts: 5,
        backoffMs: 10,
        backoffCapMs: 10,
        timeoutMs: 1_000,
        concurrency: 1,
      },
    });
    for (const subscriptionId of ids) {
      // Only `data` is read when nothing is retried later (a refusal is final).
      const job = { data: { subscriptionId } } as unknown as Job<DrainJobData>;
      await drain(job);
      const [delivery] = await store.deliveries(subscriptionId);
      expect(delivery?.state).toBe('failed');
      expect(delivery?.attempts).toHaveLength(1);
      expect(delivery?.attempts[0]?.error).toMatch(/^destination-refused: .*internal address/);
    }
    expect(sent).toEqual([]);
  });

  it('delivers through the pinned address and shows read tokens only a coarse, masked view', async () => {
    // `receiver.test` exists only in this resolver: the delivery can reach the receiver only by
    // connecting to the address the guard checked.
    const resolve: Resolve = (hostname) =>
      hostname === 'receiver.test'
        ? Promise.resolve([{ address: '127.0.0.1', family: 4 }])
        : Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    const t = await fixture({ resolve });
    t.startWorker();
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close());
    const port = new URL(receiver.url).port;
    const writer = await t.token(['write']);
    const reader = await t.token(['read']);
    const url = `http://hook-user:hook-pass@receiver.test:${port}/in?sig=s3cr3t`;
    const created = await t.call('POST', '/webhooks', {
      token: writer,
      body: { url, events: ['tenant.blocked'] },
    });
    expect(created.status).toBe(201);
    const id = (created.json as { subscription: { id: string } }).subscription.id;
    secrets['/in?sig=s3cr3t'] = (created.json as { secret: string }).secret;
    await t.services.deps.webhooks.emit(tenantBlockEvent('default', true, Date.now(), 'test'));
    await eventually(
      () => Promise.resolve(receiver.firstSeen.find((e) => e.type === 'tenant.blocked')),
      () => 'not delivered through receiver.test',
    );

    const asReader = await t.call('GET', '/webhooks', { token: reader });
    expect(asReader.text).not.toMatch(/hook-pass|s3cr3t|\/in/);
    expect(asReader.json).toMatchObject({
      subscriptions: [{ url: `http://receiver.test:${port}/…` }],
    });
    expect((await t.call('GET', '/webhooks', { token: writer })).text).toContain('s3cr3t');
    const readerDeliveries = await t.call('GET', `/webhooks/${id}/deliveries`, { token: reader });
    expect(readerDeliveries.json).toMatchObject({
      deliveries: [
        { attempts: [{ result: 'delivered', status: null, error: null, durationMs: null }] },
      ],
    });
    const writerDeliveries = await t.call('GET', `/webhooks/${id}/deliveries`, { token: writer });
    expect(writerDeliveries.json).toMatchObject({
      deliveries: [{ attempts: [{ result: 'delivered', status: 204 }] }],
    });

    // API answers are never sniffed or cached.
    expect(readerDeliveries.headers.get('x-content-type-options')).toBe('nosniff');
    expect(readerDeliveries.headers.get('cache-control')).toBe('no-store');

    // Unsubscribing removes the subscription's outbox, delivery records and sequence.
    expect((await t.call('DELETE', `/webhooks/${id}`, { token: writer })).status).toBe(200);
    const prefix = t.runtime.config.redis.prefix;
    const left = await t.runtime.redis.keys(`${prefix}:webhooks:*${id}*`);
    expect(left).toEqual([]);
  });

  it('names only the tenants a tenant-limited token may use in an unknown-tenant error', async () => {
    const t = await fixture();
    const limited = await t.token(['write'], ['default']);
    const r = await t.call('POST', '/campaigns', {
      token: limited,
      body: { devices: [t.sim.machines[0]?.id], tenant: 'no-such-customer', comment: 'x' },
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      errors: [{ where: 'body.tenant', message: 'this token may use: default' }],
    });
  });

  it('exports audit entries past the age or count bound to 0600 files before trimming them', async () => {
    const t = await fixture();
    const dir = join(mkdtempSync(join(tmpdir(), 'fleetscan-audit-')), 'audit');
    cleanups.push(() => {
      rmSync(dirname(dir), { recursive: true, force: true });
      return Promise.resolve();
    });
    const audit = t.services.deps.audit;
    for (let i = 0; i < 8; i += 1) {
      await audit.record({
        at: Date.now(),
        who: 'token:ops',
        action: 'campaign.pause',
        target: `c-${String(i).padStart(12, '0')}`,
        from: '127.0.0.1',
        status: 200,
        detail: '',
        source: 'api',
        outcome: 'ok',
      });
    }
    const { redis, config } = t.runtime;
    const prefix = config.redis.prefix;
    // Count bound: the 5 oldest go to the file, the newest 3 stay.
    const settings = { maxAgeMs: 86_400_000, maxEntries: 3, exportDir: dir };
    expect(await trimAudit(redis, prefix, settings, Date.now())).toBe(5);
    expect((await audit.list()).map((e) => e.target)).toEqual([
      'c-000000000007',
      'c-000000000006',
      'c-000000000005',
    ]);
    // Age bound: a minute later, with entries kept 30 s, the rest goes too.
    const later = Date.now() + 60_000;
    expect(await trimAudit(redis, prefix, { ...settings, maxAgeMs: 30_000 }, later)).toBe(3);
    expect(await audit.list()).toEqual([]);

    const files = readdirSync(dir);
    expect(files).toEqual([`audit-${new Date().toISOString().slice(0, 10)}.ndjson`]);
    const path = join(dir, files[0] ?? '');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { target: string }).target)).toEqual(
      Array.from({ length: 8 }, (_, i) => `c-${String(i).padStart(12, '0')}`),
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('counts refusals in the dashboard metrics as fleetscan_api_denials_total', async () => {
    const t = await fixture();
    const reader = await t.token(['read']);
    for (let i = 0; i < 3; i += 1) {
      await t.call('POST', '/campaigns/c-000000000000/pause', { token: reader });
    }
    const dashboard = await buildDashboard({
      store: t.runtime.store,
      redis: t.runtime.redis,
      stats: t.runtime.callStats,
      budgets: [],
      credentials: {},
      allowActions: false,
      requireNoEviction: false,
      api: t.services.deps,
    });
    cleanups.push(() => dashboard.close());
    await eventually(
      async () => {
        const res = await dashboard.inject({ url: '/metrics' });
        return res.body.includes('fleetscan_api_denials_total{status="403"} 3') || undefined;
      },
      () => 'fleetscan_api_denials_total{status="403"} never reached 3',
    );
  });
});
