import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../../src/auth/token-provider.js';
import { createGraphClient } from '../../../src/hunting/graph-client.js';
import { HuntingError } from '../../../src/hunting/hunting-error.js';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import { parseScanEventQuery } from '../../../src/simulator/kql-subset.js';
import { findingsQuery } from '../../../src/hunting/findings-query.js';
import { fakeClock, scan } from './sim-kit.js';

const DEVICE = 'a'.repeat(40);
const QUERY = (ids: string[], since = '2026-11-23T11:00:00.000Z') =>
  [
    'DeviceEvents',
    `| where Timestamp >= datetime(${since})`,
    '| where ActionType in ("AntivirusScanCompleted", "AntivirusScanCancelled", "AntivirusScanFailed")',
    `| where DeviceId in (${ids.map((id) => `"${id}"`).join(', ')})`,
    '| project Timestamp, DeviceId, ActionType, AdditionalFields',
  ].join('\n');

function hunt(
  sim: Simulator,
  body: unknown,
  token = sim.issueToken({ resource: 'https://graph.microsoft.com' }),
) {
  return sim.app.inject({
    method: 'POST',
    url: '/v1.0/security/runHuntingQuery',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

describe('advanced hunting in the simulator', () => {
  it.each([
    [
      'another table',
      QUERY([DEVICE]).replace('DeviceEvents', 'DeviceProcessEvents'),
      /Unsupported table/,
    ],
    ['an extra operator', `${QUERY([DEVICE])}\n| take 10`, /exactly/],
    [
      'another action type',
      QUERY([DEVICE]).replace('AntivirusScanFailed', 'ProcessCreated'),
      /ActionType/,
    ],
    ['a device id that is not one', QUERY(['DEVICE-1']), /not a DeviceId/],
    ['an unknown column', QUERY([DEVICE]).replace('AdditionalFields', 'Secret'), /resolve column/],
    ['a bad datetime', QUERY([DEVICE], 'yesterday'), /Syntax error/],
    ['an injected clause', QUERY([`${DEVICE}") or (1==1`]), /Syntax error|not a DeviceId/],
  ])('refuses %s', (_name, query, message) => {
    const parsed = parseScanEventQuery(query);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });

  it('reports scan events some time after the action succeeded, and none for a cancelled one', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 40,
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 },
      now: clock.now,
      evidence: { completedRate: 1, cancelledRate: 0, failedRate: 0, delayMs: [60_000, 60_000] },
    });
    try {
      const [first, second] = sim.machines.map((m) => m.id);
      expect((await scan(sim, first ?? '')).statusCode).toBe(201);
      const pending = await scan(sim, second ?? '');
      const actionId = pending.json<{ id: string }>().id;
      const cancelled = await sim.app.inject({
        method: 'POST',
        url: `/api/machineactions/${actionId}/cancel`,
        headers: {
          authorization: `Bearer ${sim.issueToken()}`,
          'content-type': 'application/json',
        },
        payload: JSON.stringify({ Comment: 'stop' }),
      });
      expect(cancelled.statusCode).toBe(200);
      const since = new Date(clock.now() - 1_000).toISOString();
      clock.advance(25_000 + 59_000); // Succeeded after 25 s; the event one minute later
      let reply = await hunt(sim, { Query: QUERY([first ?? '', second ?? ''], since) });
      expect(reply.json<{ results: unknown[] }>().results).toEqual([]);
      clock.advance(2_000);
      reply = await hunt(sim, {
        Query: QUERY([first ?? '', second ?? ''], since),
        Timespan: 'PT2H',
      });
      expect(reply.statusCode).toBe(200);
      const body = reply.json<{ schema: { name: string }[]; results: Record<string, unknown>[] }>();
      expect(body.schema.map((c) => c.name)).toEqual([
        'Timestamp',
        'DeviceId',
        'ActionType',
        'AdditionalFields',
      ]);
      expect(body.results).toEqual([
        expect.objectContaining({ DeviceId: first, ActionType: 'AntivirusScanCompleted' }),
      ]);
      // The engine (3 Antimalware) and the scan's kind (1 Quick), as Defender reports them.
      expect(JSON.parse(String(body.results[0]?.['AdditionalFields']))).toMatchObject({
        ScanTypeIndex: 3,
        ScanParametersIndex: 1,
        ScanId: expect.stringMatching(/^\{[0-9A-F-]{36}\}$/) as unknown,
      });
      expect(sim.deviceEvents()).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });

  it('takes only Graph tokens, and throttles with 429 and Retry-After on its own budget', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      now: clock.now,
      huntingRateLimits: [{ cap: 2, windowMs: 60_000 }],
    });
    try {
      const query = { Query: QUERY([DEVICE]) };
      expect((await hunt(sim, query, sim.issueToken())).statusCode).toBe(401); // a Defender token
      const graphToken = sim.issueToken({ resource: 'https://graph.microsoft.com' });
      const onApi = await sim.app.inject({
        method: 'GET',
        url: '/api/machineactions',
        headers: { authorization: `Bearer ${graphToken}` },
      });
      expect(onApi.statusCode).toBe(401); // and a Graph token is no Defender token
      expect((await hunt(sim, query)).statusCode).toBe(200);
      expect((await hunt(sim, { Query: 'DeviceEvents | take 1' })).statusCode).toBe(400);
      const throttled = await hunt(sim, query);
      expect(throttled.statusCode).toBe(429);
      expect(throttled.headers['retry-after']).toBe('61'); // windows include both ends
      expect(throttled.json<{ error: { code: string } }>().error.code).toBe('TooManyRequests');
      expect(sim.stats().hunting).toEqual({ calls: 4, throttled: 1, badRequests: 1 });
      expect(sim.stats().calls).toBe(1); // the Defender API call only
      clock.advance(60_001);
      expect((await hunt(sim, query)).statusCode).toBe(200);
      expect((await hunt(sim, { Query: QUERY([DEVICE]), Extra: 1 })).statusCode).toBe(400);
    } finally {
      await sim.close();
    }
  });
});

describe('the hunting CPU quota', () => {
  it('blocks queries until the next 15-minute cycle, and the client pauses its budget that long', async () => {
    const clock = fakeClock('2026-11-23T12:05:00.000Z');
    const sim = await buildSimulator({ fleet: 2, now: clock.now, huntingCpuQuota: 2 });
    try {
      await sim.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = sim.app.server.address() as { port: number };
      const pauses: number[] = [];
      const client = createGraphClient({
        graphUrl: `http://127.0.0.1:${String(port)}`,
        tokens: staticTokenProvider(sim.issueToken({ resource: 'https://graph.microsoft.com' })),
        gate: {
          acquire: () =>
            Promise.resolve({ settle: () => Promise.resolve(), release: () => Promise.resolve() }),
          throttle: (_family, ms) => {
            pauses.push(ms);
            return Promise.resolve();
          },
        },
        timeoutMs: 10_000,
        throttleDefaultMs: 60_000,
        log: pino({ level: 'silent' }),
        now: clock.now,
      });
      await client.runHuntingQuery(QUERY([DEVICE]));
      await client.runHuntingQuery(QUERY([DEVICE]));
      const blocked = await client.runHuntingQuery(QUERY([DEVICE])).catch((e: unknown) => e);
      expect(blocked).toBeInstanceOf(HuntingError);
      expect(blocked).toMatchObject({ status: 429, retry: 'throttled' });
      expect(pauses).toEqual([10 * 60_000]); // 12:05 → the cycle ends at 12:15
      clock.advance(10 * 60_000);
      await expect(client.runHuntingQuery(QUERY([DEVICE]))).resolves.toMatchObject({ results: [] });
    } finally {
      await sim.close();
    }
  });
});

describe('advanced hunting: detections and alerts (issue 28)', () => {
  it('reports a scan detection inside the scan, noise outside it, and alerts from detections and incidents in AlertEvidence', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 4,
      fleetMix: { offline: 0, busy: 0, unsupportedOs: 0, inactive: 0, excluded: 0, duplicate: 0 },
      now: clock.now,
      evidence: { completedRate: 1, cancelledRate: 0, failedRate: 0, delayMs: [60_000, 60_000] },
      detections: { share: 1, remediatedShare: 0, alertShare: 1, noiseShare: 1, quietMs: 600_000 },
      incidents: [
        { alerts: [{ title: 'Incident alert', createdMs: clock.now() + 5_000, devices: [0] }] },
      ],
    });
    try {
      const id = sim.machines[0]?.id ?? '';
      expect((await scan(sim, id)).statusCode).toBe(201);
      const since = clock.now() - 1;
      clock.advance(25_000 + 60_000 + 1_300_000); // delivered, reported, and past the late noise
      const query = findingsQuery(since, [id]);
      const reply = await hunt(sim, { Query: query });
      expect(reply.statusCode).toBe(200);
      const body = reply.json<{ schema: { name: string }[]; results: Record<string, unknown>[] }>();
      // The outer union's columns: the source first, then each table's in order, nulls elsewhere.
      expect(body.schema.map((c) => c.name)).toEqual([
        'SourceTable', 'Timestamp', 'DeviceId', 'ActionType', 'FileName', 'FolderPath', 'SHA1',
        'AdditionalFields', 'AlertId', 'Title',
      ]); // prettier-ignore
      const detections = sim.detections(since);
      const scanFound = detections.filter((d) => d.cause === 'scan');
      expect(scanFound.length).toBeGreaterThan(0);
      const completed = body.results.find((r) => r['ActionType'] === 'AntivirusScanCompleted');
      const scanEnd = Date.parse(String(completed?.['Timestamp']));
      for (const d of scanFound) expect(d.atMs).toBeLessThan(scanEnd);
      const late = detections.filter((d) => d.cause === 'realtime');
      expect(late.every((d) => d.atMs > scanEnd + 600_000)).toBe(true);
      const rows = body.results.filter((r) => r['ActionType'] === 'AntivirusDetection');
      expect(rows).toHaveLength(scanFound.length + late.length);
      expect(rows[0]).toMatchObject({ SourceTable: 'DeviceEvents', AlertId: null, Title: null });
      expect(JSON.parse(String(rows[0]?.['AdditionalFields']))).toMatchObject({
        ThreatName: expect.stringMatching(/:/) as unknown,
        WasRemediated: false,
      });
      const alerts = body.results.filter((r) => r['SourceTable'] === 'AlertEvidence');
      expect(alerts.map((r) => r['Title'])).toContain('Incident alert');
      const alertIds = new Set(alerts.map((r) => r['AlertId']));
      // One Machine row per alert (the File rows are filtered out by EntityType).
      expect(alertIds.size).toBe(alerts.length);
      for (const d of [...scanFound, ...late]) expect(alertIds.has(d.alert?.id)).toBe(true);
    } finally {
      await sim.close();
    }
  });
});
