import { describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import type { SimulatorOptions } from '../../../src/simulator/options.js';
import { errorCode } from './sim-kit.js';

const GRAPH = 'https://graph.microsoft.com';
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** Three alerts over devices 0-39 that overlap: 40 distinct devices. */
const INCIDENT = {
  id: '4711',
  alerts: [{ devices: range(0, 20) }, { devices: range(15, 35) }, { devices: range(30, 40) }],
};

async function withSim(options: SimulatorOptions, body: (sim: Simulator) => Promise<void>) {
  const sim = await buildSimulator({ fleet: 60, ...options });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

function graphGet(sim: Simulator, url: string, token = sim.issueToken({ resource: GRAPH })) {
  return sim.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

interface Evidence {
  '@odata.type': string;
  mdeDeviceId?: string | null;
}

describe("the simulator's Graph security incidents and alerts", () => {
  it('answers an incident with its alerts and their evidence when asked to expand them', async () => {
    await withSim({ incidents: [INCIDENT] }, async (sim) => {
      const expanded = await graphGet(sim, '/v1.0/security/incidents/4711?$expand=alerts');
      expect(expanded.statusCode).toBe(200);
      const body = expanded.json<{
        '@odata.context': string;
        id: string;
        alerts: { id: string; incidentId: string; evidence: Evidence[] }[];
      }>();
      expect(body['@odata.context']).toMatch(/#security\/incidents\(alerts\(\)\)\/\$entity$/);
      expect(body.alerts).toHaveLength(3);
      expect(body.alerts.every((a) => a.incidentId === '4711' && a.id.startsWith('da'))).toBe(true);
      const devices = new Set(
        body.alerts.flatMap((a) =>
          a.evidence
            .filter((e) => e['@odata.type'] === '#microsoft.graph.security.deviceEvidence')
            .map((e) => e.mdeDeviceId),
        ),
      );
      expect(devices).toEqual(new Set(sim.machines.slice(0, 40).map((m) => m.id)));
      // Other kinds of evidence ride along; file evidence has an mdeDeviceId of its own.
      const kinds = new Set(body.alerts[0]?.evidence.map((e) => e['@odata.type']));
      expect(kinds).toContain('#microsoft.graph.security.fileEvidence');
      expect(kinds).toContain('#microsoft.graph.security.userEvidence');

      const plain = await graphGet(sim, '/v1.0/security/incidents/4711');
      expect(plain.statusCode).toBe(200);
      expect(plain.json<Record<string, unknown>>()['alerts']).toBeUndefined();
    });
  });

  it('answers one alert by id, and alerts added later', async () => {
    await withSim({ incidents: [INCIDENT] }, async (sim) => {
      const [first] = sim.security.alerts('4711');
      const one = await graphGet(sim, `/v1.0/security/alerts_v2/${first?.id ?? ''}`);
      expect(one.statusCode).toBe(200);
      expect(one.json<{ evidence: Evidence[] }>().evidence.length).toBeGreaterThan(20);
      const later = sim.security.addAlert({
        incidentId: '4711',
        devices: [sim.machines[50]?.id ?? '', { mdeDeviceId: null, deviceDnsName: 'byod-7' }],
      });
      const fetched = await graphGet(sim, `/v1.0/security/alerts_v2/${later.id}`);
      const evidence = fetched.json<{ evidence: Evidence[] }>().evidence;
      expect(evidence.slice(0, 2).map((e) => e.mdeDeviceId)).toEqual([sim.machines[50]?.id, null]);
      expect(sim.security.alerts('4711')).toHaveLength(4);
    });
  });

  it.each([
    ['an unknown incident', '/v1.0/security/incidents/999?$expand=alerts', 404, 'NotFound'],
    ['an unknown alert', '/v1.0/security/alerts_v2/da123_456', 404, 'NotFound'],
    ['an incident id that is not one', '/v1.0/security/incidents/abc', 400, 'BadRequest'],
    ['another expansion', '/v1.0/security/incidents/4711?$expand=comments', 400, 'BadRequest'],
    ['another query option', '/v1.0/security/incidents/4711?$select=id', 400, 'BadRequest'],
  ])('refuses %s in Graph’s error shape', async (_name, url, status, code) => {
    await withSim({ incidents: [INCIDENT] }, async (sim) => {
      const answer = await graphGet(sim, url);
      expect(answer.statusCode).toBe(status);
      expect(errorCode(answer)).toBe(code);
      expect(answer.json()).toMatchObject({
        error: { innerError: { 'request-id': expect.any(String) as string } },
      });
    });
  });

  it('answers 403 naming the roles when the app lacks the permission', async () => {
    await withSim({ incidents: [INCIDENT], appRoles: ['ThreatHunting.Read.All'] }, async (sim) => {
      const incident = await graphGet(sim, '/v1.0/security/incidents/4711?$expand=alerts');
      expect(incident.statusCode).toBe(403);
      expect(incident.json()).toMatchObject({
        error: {
          code: 'Forbidden',
          message:
            'Missing application roles. API required roles: SecurityIncident.Read.All,SecurityIncident.ReadWrite.All, application roles: ThreatHunting.Read.All.',
        },
      });
      const alert = await graphGet(
        sim,
        `/v1.0/security/alerts_v2/${sim.security.alerts()[0]?.id ?? ''}`,
      );
      expect(alert.statusCode).toBe(403);
      expect(alert.json<{ error: { message: string } }>().error.message).toMatch(
        /SecurityAlert\.Read\.All/,
      );
      expect(
        sim
          .calls()
          .filter((c) => c.family === 'security')
          .map((c) => c.status),
      ).toEqual([403, 403]);
    });
  });

  it('refuses a Defender token: Graph wants its own audience', async () => {
    await withSim({ incidents: [INCIDENT] }, async (sim) => {
      const answer = await graphGet(sim, '/v1.0/security/incidents/4711', sim.issueToken());
      expect(answer.statusCode).toBe(401);
      expect(errorCode(answer)).toBe('InvalidAuthenticationToken');
    });
  });
});

describe("the simulator's DeviceFileEvents in advanced hunting", () => {
  const SHA = 'ab'.repeat(32);
  const observed = { fileObservations: [{ sha256: SHA, devices: range(0, 45) }] };

  function hunt(sim: Simulator, query: string) {
    return sim.app.inject({
      method: 'POST',
      url: '/v1.0/security/runHuntingQuery',
      headers: {
        authorization: `Bearer ${sim.issueToken({ resource: GRAPH })}`,
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ Query: query }),
    });
  }

  it('reports each device that saw the hash, twice, and once per device with distinct', async () => {
    await withSim(observed, async (sim) => {
      const all = await hunt(
        sim,
        `DeviceFileEvents | where Timestamp > ago(7d) | where SHA256 == "${SHA}"`,
      );
      expect(all.statusCode).toBe(200);
      expect(all.json<{ results: unknown[] }>().results).toHaveLength(90);
      const distinct = await hunt(
        sim,
        `DeviceFileEvents\n| where SHA256 =~ "${SHA.toUpperCase()}"\n| distinct DeviceId`,
      );
      const body = distinct.json<{ schema: { name: string }[]; results: { DeviceId: string }[] }>();
      expect(body.schema).toEqual([{ name: 'DeviceId', type: 'String' }]);
      expect(new Set(body.results.map((r) => r.DeviceId)).size).toBe(45);
      expect(body.results).toHaveLength(45);
      const older = await hunt(
        sim,
        `DeviceFileEvents | where Timestamp > ago(1h) | where SHA256 == "${SHA}"`,
      );
      expect(older.json<{ results: unknown[] }>().results).toHaveLength(0);
    });
  });

  it.each([
    ['an unknown column', `DeviceFileEvents | where Sha == "x"`, /resolve column 'Sha'/],
    ['an operator it does not know', `DeviceFileEvents | take 5`, /Syntax error/],
    ['project before a where', `DeviceFileEvents | project DeviceId | where SHA1 == "x"`, /last/],
  ])('refuses %s', async (_name, query, message) => {
    await withSim(observed, async (sim) => {
      const answer = await hunt(sim, query);
      expect(answer.statusCode).toBe(400);
      expect(answer.json<{ error: { message: string } }>().error.message).toMatch(message);
    });
  });

  it('answers 403 without ThreatHunting.Read.All', async () => {
    await withSim({ ...observed, appRoles: ['Machine.Scan'] }, async (sim) => {
      const answer = await hunt(sim, 'DeviceFileEvents | distinct DeviceId');
      expect(answer.statusCode).toBe(403);
      expect(answer.json<{ error: { message: string } }>().error.message).toMatch(
        /API required roles: ThreatHunting\.Read\.All, application roles: Machine\.Scan\./,
      );
    });
  });
});
