import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CreatedCampaignSchema } from '../../src/api/campaign-schemas.js';
import { eventually, startApiFixture, type ApiFixture } from './api-fixture.js';
import { startReceiver } from './webhook-receiver.js';
import { tenantBlockEvent } from '../../src/webhooks/source-events.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface DeliveryView {
  sequence: number;
  state: string;
  eventId: string;
  attempts: { status: number | null; error: string | null }[];
}

async function deliveries(t: ApiFixture, token: string, id: string): Promise<DeliveryView[]> {
  const r = await t.call('GET', `/webhooks/${id}/deliveries`, { token });
  expect(r.status).toBe(200);
  return (r.json as { deliveries: DeliveryView[] }).deliveries;
}

async function fixtureWithoutWorker(): Promise<ApiFixture> {
  const t = await startApiFixture({ worker: false });
  cleanups.push(() => t.close());
  return t;
}

describe('webhooks', () => {
  it('delivers every event exactly once, signed and in order, after the receiver was down a while', async () => {
    // No worker until every campaign and subscription exists, so none finishes too early.
    const t = await startApiFixture({ overrides: { 'webhooks.attempts': 1_000 }, worker: false });
    cleanups.push(() => t.close());
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close().catch(() => undefined));
    const token = await t.token(['write']);

    const subscribe = async (path: string, body: Record<string, unknown>) => {
      const r = await t.call('POST', '/webhooks', {
        token,
        body: { url: `${receiver.url}${path}`, ...body },
        headers: { 'idempotency-key': `sub${path}` },
      });
      expect(r.status).toBe(201);
      const created = r.json as { subscription: { id: string }; secret: string };
      secrets[path] = created.secret;
      return created.subscription.id;
    };
    const all = await subscribe('/all', {
      events: ['campaign.finished', 'campaign.failed-devices'],
      tenant: 'default',
    });
    await receiver.down();

    const start = async (devices: string[], comment: string) => {
      const r = await t.call('POST', '/campaigns', { token, body: { devices, comment } });
      return CreatedCampaignSchema.parse(r.json).campaign.id;
    };
    const ids = t.sim.machines.map((m) => m.id);
    const ghost = randomBytes(20).toString('hex');
    const a = await start(ids.slice(0, 3), 'a');
    const b = await start([...ids.slice(3, 5), ghost], 'b');
    const onlyB = await subscribe('/only-b', { events: ['campaign.finished'], campaignId: b });
    const c = await start(ids.slice(5, 7), 'c');
    t.startWorker();

    // The scans do not wait for the receiver: every campaign finishes while it is down.
    await eventually(
      async () => {
        const states = await Promise.all(
          [a, b, c].map(async (id) => (await t.runtime.store.getCampaign(id))?.state),
        );
        return states.every((s) => s === 'finished') || undefined;
      },
      () => 'campaigns did not finish while the receiver was down',
    );
    // Retries happen (and are visible) while it is down.
    await eventually(
      async () => {
        const head = (await deliveries(t, token, all)).find((d) => d.sequence === 1);
        return head && head.attempts.length >= 3 ? head : undefined;
      },
      () => 'no retries recorded',
    );
    const failedTries = (await deliveries(t, token, all)).find((d) => d.sequence === 1);
    expect(failedTries?.state).toBe('pending');
    expect(failedTries?.attempts.every((x) => x.status === null && x.error !== null)).toBe(true);

    await receiver.up();
    const expected = 5; // a, b, c finished; b failed-devices; b finished again for /only-b
    await eventually(
      () => Promise.resolve(receiver.firstSeen.length >= expected ? true : undefined),
      () => `received ${JSON.stringify(receiver.firstSeen)}`,
    );
    // Every delivery of both subscriptions final: nothing is left to arrive late or twice.
    await eventually(
      async () => {
        const states = [
          ...(await deliveries(t, token, all)),
          ...(await deliveries(t, token, onlyB)),
        ].map((d) => d.state);
        return (states.length >= expected && states.every((s) => s === 'delivered')) || undefined;
      },
      () => 'deliveries still pending',
    );

    expect(receiver.stats().badSignatures).toBe(0);
    const toAll = receiver.firstSeen.filter((e) => e.path === '/all');
    expect(toAll.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    expect(
      toAll
        .filter((e) => e.type === 'campaign.finished')
        .map((e) => e.campaignId)
        .sort(),
    ).toEqual([a, b, c].sort());
    expect(
      toAll.filter((e) => e.type === 'campaign.failed-devices').map((e) => e.campaignId),
    ).toEqual([b]);
    const bEvents = toAll.filter((e) => e.campaignId === b).map((e) => e.type);
    expect(bEvents).toEqual(['campaign.failed-devices', 'campaign.finished']);
    expect(receiver.firstSeen.filter((e) => e.path === '/only-b')).toEqual([
      expect.objectContaining({ campaignId: b, type: 'campaign.finished', sequence: 1 }),
    ]);
    const final = await deliveries(t, token, all);
    expect(final.map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(final.find((d) => d.sequence === 1)?.attempts.at(-1)?.status).toBe(204);
    const onlyBDeliveries = await deliveries(t, token, onlyB);
    expect(onlyBDeliveries.map((d) => d.state)).toEqual(['delivered']);
  });

  it('lists and deletes subscriptions, and refuses them to a read token', async () => {
    const t = await startApiFixture({ worker: false });
    cleanups.push(() => t.close());
    const writer = await t.token(['write']);
    const reader = await t.token(['read']);
    const denied = await t.call('POST', '/webhooks', {
      token: reader,
      body: { url: 'http://127.0.0.1:9/x', events: ['campaign.finished'] },
    });
    expect(denied.status).toBe(403);
    const bad = await t.call('POST', '/webhooks', {
      token: writer,
      body: { url: 'ftp://example.org/x', events: ['campaign.finished'] },
    });
    expect(bad.status).toBe(400);
    const created = await t.call('POST', '/webhooks', {
      token: writer,
      body: { url: 'http://127.0.0.1:9/x', events: ['tenant.blocked', 'campaign.settled'] },
    });
    const { subscription, secret } = created.json as {
      subscription: { id: string };
      secret: string;
    };
    expect(secret).toMatch(/^whsec_/);
    const listed = await t.call('GET', '/webhooks', { token: reader });
    expect(listed.text).not.toContain(secret);
    expect(
      (listed.json as { subscriptions: { id: string }[] }).subscriptions.map((s) => s.id),
    ).toEqual([subscription.id]);
    expect(await deliveries(t, reader, subscription.id)).toEqual([]);
    const deleted = await t.call('DELETE', `/webhooks/${subscription.id}`, { token: writer });
    expect(deleted.json).toEqual({ deleted: true });
    expect(
      (await t.call('GET', `/webhooks/${subscription.id}/deliveries`, { token: reader })).status,
    ).toBe(404);
  });

  it('delivers events of other sources once, however often they are emitted', async () => {
    const t = await fixtureWithoutWorker();
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close());
    const token = await t.token(['write']);
    const r = await t.call('POST', '/webhooks', {
      token,
      body: { url: `${receiver.url}/t`, events: ['tenant.blocked', 'tenant.unblocked'] },
    });
    secrets['/t'] = (r.json as { secret: string }).secret;
    const at = Date.now() + 1_000;
    const blocked = tenantBlockEvent('default', true, at, 'consent revoked');
    expect(await t.services.deps.webhooks.emit(blocked)).toHaveLength(1);
    expect(await t.services.deps.webhooks.emit(blocked)).toEqual([]);
    await t.services.deps.webhooks.emit(tenantBlockEvent('default', false, at + 1, 'ok'));
    await eventually(
      () => Promise.resolve(receiver.firstSeen.length === 2 || undefined),
      () => JSON.stringify(receiver.firstSeen),
    );
    expect(receiver.firstSeen.map((e) => [e.type, e.sequence])).toEqual([
      ['tenant.blocked', 1],
      ['tenant.unblocked', 2],
    ]);
    expect(receiver.stats()).toEqual({ requests: 2, badSignatures: 0 });
  });

  it('gives up on a delivery after its attempts, keeps every attempt, and goes on with the next', async () => {
    const t = await startApiFixture({ worker: false, overrides: { 'webhooks.attempts': 3 } });
    cleanups.push(() => t.close());
    const secrets: Record<string, string> = {};
    const receiver = await startReceiver(() => secrets);
    cleanups.push(() => receiver.close());
    const token = await t.token(['write']);
    const r = await t.call('POST', '/webhooks', {
      token,
      body: { url: `${receiver.url}/g`, events: ['tenant.blocked'] },
    });
    const { subscription, secret } = r.json as { subscription: { id: string }; secret: string };
    secrets['/g'] = secret;
    const at = Date.now() + 1_000;
    const poison = tenantBlockEvent('default', true, at, 'first');
    receiver.rejected.add(poison.id);
    await t.services.deps.webhooks.emit(poison);
    await t.services.deps.webhooks.emit(tenantBlockEvent('default', true, at + 1, 'second'));
    const list = await eventually(
      async () => {
        const all = await deliveries(t, token, subscription.id);
        return all.every((d) => d.state !== 'pending') && all.length === 2 ? all : undefined;
      },
      () => 'deliveries still pending',
    );
    expect(list.map((d) => [d.sequence, d.state, d.attempts.length])).toEqual([
      [2, 'delivered', 1],
      [1, 'failed', 3],
    ]);
    expect(list[1]?.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
    expect(receiver.firstSeen.map((e) => e.sequence)).toEqual([2]);
  });
});
