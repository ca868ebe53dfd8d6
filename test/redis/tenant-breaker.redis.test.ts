import { afterEach, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import { uniquePrefix } from '../helpers/redis.js';
import { simSecretTokens } from '../helpers/sim-token-provider.js';
import { actionsPerDevice, breakerTenants, eventually } from './breaker-fixture.js';
import { startCampaign, waitFinished } from './scan-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Fixture = Awaited<ReturnType<typeof breakerTenants>>;

const secretTokens = (t: Fixture['tenants'][number], clientSecret: string, entraUrl = t.url) =>
  simSecretTokens({
    entraUrl: () => entraUrl,
    tenantId: t.sim.credentials.tenantId,
    clientId: t.sim.credentials.clientId,
    clientSecret,
  });

/** Nothing spent on any device: none failed, none tried, none requested. */
async function untouched(f: Fixture, campaignId: string, tenant = 'a') {
  const devices = await f.devicesOf(campaignId);
  expect(devices.filter((d) => d.state === 'failed')).toEqual([]);
  expect(devices.filter((d) => d.state === 'requested')).toEqual([]);
  const lane = f.lanes.forTenant(tenant);
  expect(await f.redis.hlen(lane.keys.tries)).toBe(0);
}

/** Every device of the campaign requested with exactly one action. */
async function oneActionEach(f: Fixture, campaignId: string, tenant = 'a') {
  const sim = f.tenants.find((t) => t.name === tenant)!.sim;
  const devices = await f.devicesOf(campaignId);
  expect(devices.map((d) => d.state)).toEqual(devices.map(() => 'requested'));
  const created = actionsPerDevice(sim);
  for (const d of devices) expect(created.get(d.machineId), d.machineId).toBe(1);
}

const blockedReason = async (f: Fixture, tenant = 'a') =>
  (await f.lanes.forTenant(tenant).breaker.read())?.reason;

describe('tenant-wide fault breaker (issue 9, defect 1)', () => {
  it('blocks a tenant whose client secret was rotated, fails no device, and finishes once a worker has the new secret', async () => {
    const prefix = uniquePrefix('breaker');
    const f = await breakerTenants(prefix, ['a'], () => ({ fleet: 40 }), cleanups);
    const [a] = f.tenants;
    const oldSecret = a!.sim.credentials.clientSecret;
    a!.sim.rotateClientSecret('new-secret-after-rotation');
    const ids = a!.sim.machines.map((m) => m.id);
    const campaignId = await startCampaign(f.runtime, ids, 'rotated', { tenant: 'a' });

    const stale = f.startWorker({ a: secretTokens(a!, oldSecret) });
    await eventually('the block', async () => (await blockedReason(f)) === 'credentials_rejected');
    // Probes keep failing with backoff (turns in flight at the block fail too, changing nothing).
    await eventually('two failed probes', async () => {
      const state = await f.lanes.forTenant('a').breaker.read();
      return (state?.failures ?? 0) >= 2;
    });
    await untouched(f, campaignId);
    expect(f.changes.map((c) => c.change.kind)).toEqual(['blocked']);
    expect(a!.sim.calls().filter((c) => c.family === 'scan')).toEqual([]);

    await stale.close();
    f.startWorker({ a: secretTokens(a!, 'new-secret-after-rotation') });
    await waitFinished(f.runtime, campaignId);
    await oneActionEach(f, campaignId);
    expect(await blockedReason(f)).toBeUndefined();
    expect(f.changes.map((c) => c.change.kind)).toEqual(['blocked', 'unblocked']);
  }, 60_000);

  it('blocks on an expired static token (401 after the refresh) and finishes with a new token', async () => {
    const prefix = uniquePrefix('breaker');
    let offsetMs = 0;
    const f = await breakerTenants(
      prefix,
      ['a'],
      () => ({ fleet: 30, now: () => Date.now() + offsetMs }),
      cleanups,
    );
    const [a] = f.tenants;
    const expired = a!.sim.issueToken({ lifetimeSec: 60 });
    offsetMs = 120_000;
    const campaignId = await startCampaign(
      f.runtime,
      a!.sim.machines.map((m) => m.id),
      'expired',
      { tenant: 'a' },
    );
    const first = f.startWorker({ a: staticTokenProvider(expired) });
    await eventually('the block', async () => (await blockedReason(f)) === 'token_expired');
    await untouched(f, campaignId);
    // Only the turns in flight at the block, then one probe per failure (maybe one running now),
    // reached the API, every one refused: no 401 per device.
    const { failures } = (await f.lanes.forTenant('a').breaker.read())!;
    const refused = a!.sim.stats().unauthorized;
    expect(refused).toBeLessThanOrEqual(8 + failures + 1);

    await first.close();
    f.startWorker({ a: staticTokenProvider(a!.sim.issueToken({ lifetimeSec: 3_600 })) });
    await waitFinished(f.runtime, campaignId);
    await oneActionEach(f, campaignId);
    expect(await blockedReason(f)).toBeUndefined();
  }, 60_000);

  it('rides out an Entra outage and resumes by itself when it ends, with no restart', async () => {
    const prefix = uniquePrefix('breaker');
    const f = await breakerTenants(prefix, ['a'], () => ({ fleet: 30 }), cleanups);
    const [a] = f.tenants;
    let entraDown = true;
    const tokens = simSecretTokens({
      // A closed port: connection refused, as when the login host cannot be reached.
      entraUrl: () => (entraDown ? 'http://127.0.0.1:1' : a!.url),
      tenantId: a!.sim.credentials.tenantId,
      clientId: a!.sim.credentials.clientId,
      clientSecret: a!.sim.credentials.clientSecret,
    });
    const campaignId = await startCampaign(
      f.runtime,
      a!.sim.machines.map((m) => m.id),
      'outage',
      { tenant: 'a' },
    );
    f.startWorker({ a: tokens });
    await eventually('the block', async () => (await blockedReason(f)) === 'entra_unreachable');
    await eventually('a failed probe', async () => {
      const state = await f.lanes.forTenant('a').breaker.read();
      return (state?.failures ?? 0) >= 2;
    });
    await untouched(f, campaignId);

    entraDown = false;
    await waitFinished(f.runtime, campaignId);
    await oneActionEach(f, campaignId);
    expect(await blockedReason(f)).toBeUndefined();
  }, 60_000);

  it('keeps a second tenant going while the first is blocked', async () => {
    const prefix = uniquePrefix('breaker');
    const f = await breakerTenants(prefix, ['a', 'b'], () => ({ fleet: 60 }), cleanups);
    const [a, b] = f.tenants;
    const campaignA = await startCampaign(
      f.runtime,
      a!.sim.machines.map((m) => m.id),
      'blocked tenant',
      { tenant: 'a' },
    );
    const campaignB = await startCampaign(
      f.runtime,
      b!.sim.machines.map((m) => m.id),
      'healthy tenant',
      { tenant: 'b' },
    );
    f.startWorker({
      a: secretTokens(a!, 'a-wrong-secret'),
      b: secretTokens(b!, b!.sim.credentials.clientSecret),
    });
    await waitFinished(f.runtime, campaignB);
    await oneActionEach(f, campaignB, 'b');
    expect(await blockedReason(f, 'b')).toBeUndefined();
    expect(await blockedReason(f, 'a')).toBe('credentials_rejected');
    await untouched(f, campaignA);
    // Every place of the pool served b: a blocked budget holds no worker place while it waits.
    expect(f.changes.map((c) => c.budgetId)).toEqual([f.registry.get('a').budgetId]);
  }, 60_000);

  it('blocks a tenant whose app lacks the scan permission instead of failing its devices', async () => {
    const prefix = uniquePrefix('breaker');
    const f = await breakerTenants(
      prefix,
      ['a'],
      () => ({ fleet: 60, appRoles: ['Machine.Read.All'] }),
      cleanups,
    );
    const [a] = f.tenants;
    const campaignId = await startCampaign(
      f.runtime,
      a!.sim.machines.map((m) => m.id),
      'no permission',
      { tenant: 'a' },
    );
    f.startWorker({ a: secretTokens(a!, a!.sim.credentials.clientSecret) });
    await eventually('the block', async () => (await blockedReason(f)) === 'permission_missing');
    await eventually('two failed probes', async () => {
      const state = await f.lanes.forTenant('a').breaker.read();
      return (state?.failures ?? 0) >= 2;
    });
    await untouched(f, campaignId);
    // The devices in flight when the first 403 came, then one probe at a time: not one per device.
    const refused = a!.sim.calls().filter((c) => c.family === 'scan' && c.status === 403).length;
    const { failures } = (await f.lanes.forTenant('a').breaker.read())!;
    expect(refused).toBeLessThanOrEqual(8 + failures + 1);
    const state = await f.lanes.forTenant('a').breaker.read();
    expect(state?.message).toMatch(/lacks the Machine\.Scan permission\. Grant the app/);
  }, 60_000);
});
