import { randomBytes } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CampaignListSchema,
  CampaignSchema,
  ControlResultSchema,
  CreatedCampaignSchema,
  DevicePageSchema,
  RetryResultSchema,
} from '../../src/api/campaign-schemas.js';
import { ProblemSchema } from '../../src/api/problem.js';
import { eventually, startApiFixture, type ApiFixture } from './api-fixture.js';

let t: ApiFixture;
let writer: string;
let reader: string;

beforeAll(async () => {
  t = await startApiFixture();
  writer = await t.token(['write']);
  reader = await t.token(['read']);
});
afterAll(async () => {
  await t.close();
});

const unknownId = () => randomBytes(20).toString('hex');
const scanCalls = () => t.sim.calls().filter((c) => c.family === 'scan');

async function waitForState(id: string, state: string) {
  return eventually(
    async () => {
      const r = await t.call('GET', `/campaigns/${id}`, { token: reader });
      const campaign = CampaignSchema.parse(r.json);
      return campaign.state === state ? campaign : undefined;
    },
    () => `campaign ${id} never became ${state}`,
  );
}

describe('automation API over HTTP', () => {
  it('creates one campaign for two POSTs with one Idempotency-Key, follows it to the end and exports it', async () => {
    const devices = t.sim.machines.slice(0, 30).map((m) => m.id);
    const body = { devices, comment: 'IR-4711 sweep', priority: 'urgent', scanType: 'Quick' };
    const headers = { 'idempotency-key': 'ir-4711-step-3' };
    const first = await t.call('POST', '/campaigns', { token: writer, body, headers });
    expect(first.status).toBe(201);
    const created = CreatedCampaignSchema.parse(first.json);
    expect(created.accepted).toBe(30);
    expect(first.headers.get('location')).toBe(`/api/v1/campaigns/${created.campaign.id}`);

    const second = await t.call('POST', '/campaigns', { token: writer, body, headers });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.text).toBe(first.text);
    const all = await t.runtime.store.listCampaigns();
    expect(all.filter((c) => c.comment.startsWith('IR-4711'))).toHaveLength(1);

    const finished = await waitForState(created.campaign.id, 'finished');
    expect(finished.counts.requested).toBe(30);
    expect(finished.priority).toBe('urgent');
    expect(finished.createdBy).toMatch(/^token:test-/);
    // One MachineAction per device, whatever busy answers or 429s the simulator gave on the way.
    const created2 = scanCalls().filter((c) => devices.includes(c.machineId ?? '') && c.actionId);
    expect(created2).toHaveLength(30);
    expect(new Set(created2.map((c) => c.machineId)).size).toBe(30);

    const csv = await t.call('GET', `/campaigns/${created.campaign.id}/export?format=csv`, {
      token: reader,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'machineId,state,machineActionId,actionStatus,reason,attempts,requestedAt,joinedExisting,' +
        'actionUpdatedAt,cancelResult,scanResult,scanCompletedAt,scanType,hostname,nextAttemptAt,' +
        'threats,threatNames,unremediated,threatFiles,alerts,alertTitles,tenant,priority',
    );
    expect(lines).toHaveLength(31);
    const ndjson = await t.call('GET', `/campaigns/${created.campaign.id}/export`, {
      token: reader,
    });
    expect(ndjson.text.trim().split('\n')).toHaveLength(30);
  });

  it('refuses the same Idempotency-Key with another body (409) and keeps the first campaign', async () => {
    const devices = [t.sim.machines[40]?.id ?? ''];
    const headers = { 'idempotency-key': 'k-409' };
    const first = await t.call('POST', '/campaigns', {
      token: writer,
      body: { devices, comment: 'first' },
      headers,
    });
    expect(first.status).toBe(201);
    const other = await t.call('POST', '/campaigns', {
      token: writer,
      body: { devices, comment: 'second' },
      headers,
    });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(ProblemSchema.parse(other.json).type).toMatch(/idempotency-conflict$/);
  });

  it('refuses a hostile device id with 400 before creating anything or calling the API', async () => {
    // Let earlier campaigns finish, so any scan call from now on would be this request's.
    await eventually(
      async () =>
        (await t.runtime.store.listCampaigns()).every((c) => c.state !== 'running') || undefined,
      () => 'earlier campaigns still running',
    );
    const before = t.sim.calls().length;
    const campaignsBefore = (await t.runtime.store.listCampaigns()).length;
    const hostile = [
      t.sim.machines[50]?.id ?? '',
      '../../api/machines?$filter=true',
      `${'a'.repeat(40)}\r\nX-Injected: 1`,
      "1' or '1'='1",
    ];
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: { devices: hostile, comment: 'hostile' },
    });
    expect(r.status).toBe(400);
    const problem = ProblemSchema.parse(r.json);
    expect(problem.type).toMatch(/invalid-devices$/);
    expect(problem.errors?.map((e) => e.where)).toEqual([
      'body.devices[1]',
      'body.devices[2]',
      'body.devices[3]',
    ]);
    expect(problem.errors?.[1]?.message).not.toContain('\r');
    expect((await t.runtime.store.listCampaigns()).length).toBe(campaignsBefore);
    // Nothing waits or runs in any lane, so no scan call can come later; then read the log.
    await eventually(
      async () => {
        const stats = await Promise.all(t.runtime.lanes.all().map((lane) => lane.stats()));
        const idle = stats.every(
          (s) => s.due === 0 && s.active === 0 && Object.values(s.campaigns).every((n) => n === 0),
        );
        return idle || undefined;
      },
      () => 'a lane still has devices waiting or in progress',
    );
    const since = t.sim.calls().slice(before);
    expect(since.filter((c) => c.family === 'scan')).toEqual([]);
    expect(
      since.filter((c) => c.machineId === hostile[0] || /injected|machines\?|'/i.test(c.path)),
    ).toEqual([]);
  });

  it('takes an NDJSON device list with the options in the query string', async () => {
    const ids = t.sim.machines.slice(60, 63).map((m) => m.id);
    const ndjson = `"${ids[0] ?? ''}"\n{"machineId":"${ids[1] ?? ''}"}\n\n{"deviceId":"${(ids[2] ?? '').toUpperCase()}"}\n`;
    const r = await t.call('POST', '/campaigns?comment=ndjson%20run&priority=background', {
      token: writer,
      ndjson,
    });
    expect(r.status).toBe(201);
    const created = CreatedCampaignSchema.parse(r.json);
    expect(created.accepted).toBe(3);
    expect(created.campaign.priority).toBe('background');
    expect(created.campaign.comment).toContain('ndjson run');
  });

  it('selects devices by tag through List Machines, like scan --tag', async () => {
    const tag = t.sim.machines.flatMap((m) => m.machineTags)[0] ?? '';
    const listBefore = t.sim.calls().filter((c) => c.family === 'machines').length;
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: {
        tags: [tag],
        comment: 'by tag',
        window: { start: '22:00', end: '06:00', tz: 'Europe/Zurich' },
      },
    });
    expect(r.status).toBe(201);
    const created = CreatedCampaignSchema.parse(r.json);
    expect(created.campaign.source).toBe(`tag:${tag}`);
    expect(created.campaign.window).toEqual({ start: '22:00', end: '06:00', tz: 'Europe/Zurich' });
    const tagged = t.sim.machines.filter((m) => m.machineTags.includes(tag)).length;
    const skipped = Object.values(created.skipped).reduce((a, b) => a + b, 0);
    expect(created.accepted + skipped).toBe(tagged);
    expect(t.sim.calls().filter((c) => c.family === 'machines').length).toBeGreaterThan(listBefore);
    const both = await t.call('POST', '/campaigns', {
      token: writer,
      body: { tags: [tag], devices: [t.sim.machines[0]?.id], comment: 'both' },
    });
    expect(both.status).toBe(400);
    const zone = await t.call('POST', '/campaigns', {
      token: writer,
      body: {
        tags: [tag],
        comment: 'x',
        window: { start: '22:00', end: '06:00', tz: 'Mars/Olympus' },
      },
    });
    expect(ProblemSchema.parse(zone.json).errors?.[0]?.where).toBe('body.window.tz');
  });

  it('answers 401 without a token or with a revoked one, and 403 for the wrong scope', async () => {
    expect((await t.call('GET', '/campaigns')).status).toBe(401);
    const read = await t.call('POST', '/campaigns', {
      token: reader,
      body: { devices: [t.sim.machines[0]?.id], comment: 'x' },
    });
    expect(read.status).toBe(403);
    expect(ProblemSchema.parse(read.json).detail).toContain('"write" scope');

    const doomed = await t.token(['write']);
    expect((await t.call('GET', '/campaigns', { token: doomed })).status).toBe(200);
    const id = doomed.split('_')[1] ?? '';
    expect(await t.services.deps.tokens.revoke(id, Date.now())).not.toBeNull();
    const revoked = await t.call('GET', '/campaigns', { token: doomed });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(ProblemSchema.parse(revoked.json).detail).toMatch(/revoked/);
  });

  it('keeps a tenant-limited token to its tenants', async () => {
    const other = await t.token(['write'], ['contoso']);
    const r = await t.call('POST', '/campaigns', {
      token: other,
      body: { devices: [t.sim.machines[0]?.id], comment: 'x' },
    });
    expect(r.status).toBe(403);
    const list = CampaignListSchema.parse(
      (await t.call('GET', '/campaigns', { token: other })).json,
    );
    expect(list.campaigns).toHaveLength(0);
    const anyId = (await t.runtime.store.listCampaigns())[0]?.id ?? '';
    expect((await t.call('GET', `/campaigns/${anyId}`, { token: other })).status).toBe(404);
    expect((await t.call('GET', '/audit', { token: other })).status).toBe(403);
  });

  it('pauses, resumes, lists and pages a running campaign, then cancels it', async () => {
    const devices = t.sim.machines.slice(70, 200).map((m) => m.id);
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: { devices, comment: 'to cancel', name: 'cancel me' },
    });
    const { campaign } = CreatedCampaignSchema.parse(r.json);
    const paused = ControlResultSchema.parse(
      (await t.call('POST', `/campaigns/${campaign.id}/pause`, { token: writer })).json,
    );
    expect(paused.state).toBe('paused');
    // The BullMQ-era name stays in the output beside the new one until 1.0.0.
    expect(paused.jobsRemoved).toBe(paused.devicesWithdrawn);
    const resumed = ControlResultSchema.parse(
      (await t.call('POST', `/campaigns/${campaign.id}/resume`, { token: writer })).json,
    );
    expect(resumed.state).toBe('running');

    const listed = CampaignListSchema.parse(
      (await t.call('GET', '/campaigns?state=running&limit=5', { token: reader })).json,
    );
    expect(listed.campaigns.map((c) => c.id)).toContain(campaign.id);
    const running = listed.campaigns.find((c) => c.id === campaign.id);
    expect(running?.budget?.windows.map((w) => w.cap)).toEqual([100, 1500]);

    const page1 = DevicePageSchema.parse(
      (await t.call('GET', `/campaigns/${campaign.id}/devices?limit=50`, { token: reader })).json,
    );
    expect(page1.devices.length).toBeGreaterThan(0);
    expect(page1.devices.every((d) => devices.includes(d.machineId))).toBe(true);
    const search = devices[5]?.slice(0, 12) ?? '';
    const found = DevicePageSchema.parse(
      (await t.call('GET', `/campaigns/${campaign.id}/devices?search=${search}`, { token: reader }))
        .json,
    );
    expect(found.devices.map((d) => d.machineId)).toContain(devices[5]);

    const noKillSwitch = await t.call('POST', `/campaigns/${campaign.id}/cancel`, {
      token: writer,
      body: { actions: true },
    });
    expect(noKillSwitch.status).toBe(501);
    expect((await t.runtime.store.getCampaign(campaign.id))?.state).not.toBe('cancelled');

    const cancelled = await t.call('POST', `/campaigns/${campaign.id}/cancel`, {
      token: writer,
      body: {},
    });
    expect(cancelled.status).toBe(200);
    const result = ControlResultSchema.parse(cancelled.json);
    expect(result.state).toBe('cancelled');
    const after = await t.runtime.store.getCampaign(campaign.id);
    expect(after?.counts.queued).toBe(0);
    expect(after?.state).toBe('cancelled');
  });

  it('retries failed devices of one reason; the ones already sent are looked up first', async () => {
    const known = t.sim.machines.slice(64, 66).map((m) => m.id);
    const ghosts = [unknownId(), unknownId()];
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: { devices: [...known, ...ghosts], comment: 'with ghosts' },
    });
    const { campaign } = CreatedCampaignSchema.parse(r.json);
    const done = await waitForState(campaign.id, 'finished');
    expect(done.counts.failed).toBe(2);
    const [code] = Object.keys(done.failuresByReason).map((reason) => reason.split(':')[0] ?? '');

    const failedPage = DevicePageSchema.parse(
      (
        await t.call('GET', `/campaigns/${campaign.id}/devices?reason=${code ?? ''}`, {
          token: reader,
        })
      ).json,
    );
    expect(failedPage.devices.map((d) => d.machineId).sort()).toEqual([...ghosts].sort());

    // A code no device failed with is refused, naming the codes there are.
    const none = await t.call('POST', `/campaigns/${campaign.id}/retry`, {
      token: writer,
      body: { reason: 'NoSuchCode' },
    });
    expect(none.status).toBe(409);
    expect(JSON.stringify(none.json)).toContain(`codes present: ${code ?? ''} (2)`);
    expect(
      (await t.call('GET', `/campaigns/${campaign.id}`, { token: reader })).json,
    ).toMatchObject({ state: 'finished' });

    const callsBeforeRetry = t.sim.calls().length;
    const retried = await t.call('POST', `/campaigns/${campaign.id}/retry`, {
      token: writer,
      body: { reason: code },
    });
    expect(retried.status).toBe(200);
    const result = RetryResultSchema.parse(retried.json);
    expect(result.requeued).toBe(2);
    expect(result.lookupFirst).toBe(2);
    const again = await waitForState(campaign.id, 'finished');
    expect(again.counts.failed).toBe(2);
    expect(again.counts.requested).toBe(2);
    // Each retried device was looked up (List MachineActions for it) before it was called again.
    for (const ghost of ghosts) {
      const calls = t.sim
        .calls()
        .slice(callsBeforeRetry)
        .filter((c) => c.machineId === ghost || c.path.includes(ghost));
      const firstScan = calls.findIndex((c) => c.family === 'scan');
      expect(firstScan).toBeGreaterThan(0);
      expect(calls.slice(0, firstScan).some((c) => c.family === 'machineActions')).toBe(true);
    }
  });

  it('records every write in the audit log with who, what, where and how it ended', async () => {
    const r = await t.call('GET', '/audit?limit=200', { token: reader });
    expect(r.status).toBe(200);
    const entries = (
      r.json as {
        entries: {
          action: string;
          who: string;
          from: string;
          status: number;
          source: string;
          outcome: string;
          detail: string;
        }[];
      }
    ).entries;
    const actions = new Set(entries.map((e) => e.action));
    for (const action of [
      'campaign.create',
      'campaign.pause',
      'campaign.resume',
      'campaign.cancel',
      'campaign.retry',
    ]) {
      expect(actions).toContain(action);
    }
    const refused = entries.find((e) => e.status === 400);
    expect(refused).toMatchObject({ action: 'campaign.create', outcome: 'refused' });
    // The problem's reason, not an empty cell.
    expect(refused?.detail).toMatch(/^denied( ×\d+ since \S+)?: ./);
    expect(entries.find((e) => e.status === 201)?.outcome).toBe('ok');
    // Refusals before authentication are recorded by address (collapsed, audit-denials.ts).
    expect(
      entries.every(
        (e) =>
          /^(token:test-[\w-]+\/[0-9a-f]{10}|address:127\.0\.0\.1)$/.test(e.who) &&
          e.from === '127.0.0.1' &&
          e.source === 'api',
      ),
    ).toBe(true);
    const page = await t.call('GET', '/audit?limit=2', { token: reader });
    const next = (page.json as { next: string | null }).next;
    expect(next).not.toBeNull();
    const older = await t.call('GET', `/audit?limit=2&before=${next ?? ''}`, { token: reader });
    expect((older.json as { entries: unknown[] }).entries).toHaveLength(2);
  });

  it('answers unknown campaigns, bad queries and unknown routes with problem details', async () => {
    const missing = await t.call('GET', '/campaigns/c-000000000000', { token: reader });
    expect(missing.status).toBe(404);
    const bad = await t.call('GET', '/campaigns?limit=0', { token: reader });
    expect(bad.status).toBe(400);
    expect(ProblemSchema.parse(bad.json).errors?.[0]?.where).toBe('query.limit');
    const route = await t.call('GET', '/nothing-here', { token: reader });
    expect(route.status).toBe(404);
    expect(route.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('serves an OpenAPI 3.1 document that validates and whose every route this file called', async () => {
    const r = await t.call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.json as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
    expect(routes.length).toBeGreaterThanOrEqual(14);
    // Webhook routes are exercised in webhooks.redis.test.ts.
    const missing = routes.filter(({ method, path }) => {
      if (path.includes('/webhooks')) return false;
      const pattern = new RegExp(`^${method} ${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      return !t.called.some((c) => pattern.test(c.replace(/^(\w+) /, `$1 /api/v1`)));
    });
    expect(missing).toEqual([]);
  });
});
