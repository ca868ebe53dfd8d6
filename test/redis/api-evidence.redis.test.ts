import { afterEach, describe, expect, it } from 'vitest';
import { CreatedCampaignSchema } from '../../src/api/campaign-schemas.js';
import type { SimulatorOptions } from '../../src/simulator/build-simulator.js';
import { startApiFixture, type ApiFixture } from './api-fixture.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const SHA = 'feed'.padEnd(64, '0');
const HUNT = `DeviceFileEvents | where Timestamp > ago(7d) | where SHA256 == "${SHA}"`;
const SIM: SimulatorOptions = {
  fleet: 200,
  incidents: [
    {
      id: '4711',
      alerts: [
        { devices: range(0, 20) },
        { devices: [...range(15, 35), { mdeDeviceId: null, deviceDnsName: 'byod-7' }] },
        { devices: range(30, 40) },
      ],
    },
  ],
  fileObservations: [{ sha256: SHA, devices: range(50, 170) }],
};

let t: ApiFixture | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function campaignCount(f: ApiFixture): Promise<number> {
  return (await f.runtime.store.listCampaigns()).length;
}

describe('POST /campaigns from evidence', () => {
  it('creates campaigns from an incident, an alert and a hunting query, each recording its source', async () => {
    t = await startApiFixture({ sim: SIM, graph: true, worker: false });
    const writer = await t.token(['write']);
    const byIncident = await t.call('POST', '/campaigns', {
      token: writer,
      body: { incident: '4711', priority: 'urgent', comment: 'IR 4711' },
    });
    expect(byIncident.status, byIncident.text).toBe(201);
    const incident = CreatedCampaignSchema.parse(byIncident.json);
    expect(incident).toMatchObject({ accepted: 40, skipped: { 'not-onboarded': 1 } });
    expect(incident.campaign).toMatchObject({ source: 'incident:4711', priority: 'urgent' });

    const alertId = t.sim.security.alerts('4711')[2]?.id ?? '';
    const byAlert = await t.call('POST', '/campaigns', {
      token: writer,
      body: { alert: alertId, comment: 'one alert' },
    });
    expect(byAlert.status, byAlert.text).toBe(201);
    expect(CreatedCampaignSchema.parse(byAlert.json)).toMatchObject({
      accepted: 10,
      campaign: { source: `alert:${alertId}` },
    });

    const byQuery = await t.call('POST', '/campaigns', {
      token: writer,
      body: { hunting: HUNT, comment: 'dropper' },
    });
    expect(byQuery.status, byQuery.text).toBe(201);
    expect(CreatedCampaignSchema.parse(byQuery.json)).toMatchObject({
      accepted: 120,
      campaign: { source: `hunting[240 rows]:${HUNT}` },
    });
  });

  it.each([
    ['an unknown incident', { incident: '999' }, 400, /Incident 999 does not exist in this tenant/],
    ['an incident id that is not one', { incident: 'INC-1' }, 400, /incident number/],
    [
      'a query without a DeviceId column',
      { hunting: `${HUNT} | project DeviceName` },
      400,
      /no DeviceId column/,
    ],
    [
      'a query that finds no device',
      { hunting: 'DeviceFileEvents | where SHA256 == "0"' },
      400,
      /names no device to scan \(0 rows\)/,
    ],
    ['two sources', { incident: '4711', tags: ['Servers'] }, 400, /exactly one source/],
  ])('refuses %s and creates nothing', async (_name, body, status, message) => {
    t = await startApiFixture({ sim: SIM, graph: true, worker: false });
    const writer = await t.token(['write']);
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: { ...body, comment: 'x' },
    });
    expect(r.status).toBe(status);
    expect(r.text).toMatch(message);
    expect(await campaignCount(t)).toBe(0);
  });

  it('answers 502 naming the Graph permission to grant when the app lacks it', async () => {
    t = await startApiFixture({
      sim: { ...SIM, appRoles: ['Machine.Scan', 'Machine.Read.All'] },
      graph: true,
      worker: false,
    });
    const writer = await t.token(['write']);
    const r = await t.call('POST', '/campaigns', {
      token: writer,
      body: { incident: '4711', comment: 'x' },
    });
    expect(r.status).toBe(502);
    expect(r.text).toMatch(
      /Graph answered 403 Forbidden.*Fix: add the Microsoft Graph application permission SecurityIncident\.Read\.All/,
    );
    expect(await campaignCount(t)).toBe(0);
  });
});
