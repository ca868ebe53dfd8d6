import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import { errorCode, fakeClock, get, scan } from './sim-kit.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const DAY = 86_400_000;

function expectApiError(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode).toBe(status);
  const body = response.json<Record<string, unknown>>();
  expect(Object.keys(body)).toEqual(['error']);
  const error = body['error'] as Record<string, unknown>;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'target']);
  expect(error['code']).toBe(code);
  expect(typeof error['message']).toBe('string');
  expect(error['target']).toMatch(/^[0-9a-f-]{36}$/);
}

async function withSim(
  options: Parameters<typeof buildSimulator>[0],
  body: (sim: Simulator) => Promise<void>,
): Promise<void> {
  const sim = await buildSimulator(options);
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

describe('bearer token audience', () => {
  it('answers 401 to a valid, unexpired token issued for another resource', async () => {
    await withSim({ machines: [{ id: id(1) }] }, async (sim) => {
      const call = (token: string) =>
        sim.app.inject({
          method: 'GET',
          url: '/api/machines',
          headers: { authorization: `Bearer ${token}` },
        });
      expectApiError(
        await call(sim.issueToken({ resource: 'https://graph.microsoft.com' })),
        401,
        'Unauthorized',
      );
      expect((await call(sim.issueToken())).statusCode).toBe(200);
      expect(
        (await call(sim.issueToken({ resource: 'https://api.security.microsoft.com' }))).statusCode,
      ).toBe(200);
      expect(sim.stats().unauthorized).toBe(1);
    });
  });

  it('accepts only the resources of the accepted scopes when they are narrowed', async () => {
    await withSim(
      {
        machines: [{ id: id(1) }],
        acceptedScopes: ['https://api-gov.securitycenter.microsoft.us/.default'],
      },
      async (sim) => {
        const call = (token: string) =>
          sim.app.inject({
            method: 'GET',
            url: '/api/machines',
            headers: { authorization: `Bearer ${token}` },
          });
        expect((await call(sim.issueToken())).statusCode).toBe(200);
        expectApiError(
          await call(sim.issueToken({ resource: 'https://api.securitycenter.microsoft.com' })),
          401,
          'Unauthorized',
        );
      },
    );
  });
});

describe('DateTimeOffset literals in $filter', () => {
  const filterStatus = async (sim: Simulator, filter: string) =>
    get(sim, `/api/machineactions?$filter=${encodeURIComponent(filter)}`);

  it('accepts the unquoted OData v4 forms, offsets included, and compares instants', async () => {
    const clock = fakeClock('2026-11-01T10:00:00.000Z');
    await withSim({ machines: [{ id: id(1) }], now: clock.now }, async (sim) => {
      const created = (await scan(sim, id(1))).json<{ id: string }>();
      const ids = async (filter: string) => {
        const r = await filterStatus(sim, filter);
        expect(r.statusCode).toBe(200);
        return r.json<{ value: { id: string }[] }>().value.map((v) => v.id);
      };
      expect(await ids('creationDateTimeUtc ge 2026-11-01T10:00:00Z')).toEqual([created.id]);
      expect(await ids('creationDateTimeUtc ge 2026-11-01T10:00:00.000Z')).toEqual([created.id]);
      expect(await ids('creationDateTimeUtc ge 2026-11-01T10:00:00.0000000Z')).toEqual([
        created.id,
      ]);
      expect(await ids('creationDateTimeUtc ge 2026-11-01T10:00Z')).toEqual([created.id]);
      // 11:00+01:00 is 10:00Z; 11:00:00.001+01:00 is after the action was created.
      expect(await ids('creationDateTimeUtc ge 2026-11-01T11:00:00+01:00')).toEqual([created.id]);
      expect(await ids('creationDateTimeUtc gt 2026-11-01T11:00:00.001+01:00')).toEqual([]);
      expect(await ids('creationDateTimeUtc ge 2026-11-01T10:00:00.001Z')).toEqual([]);
    });
  });

  it('refuses quoted, date-only, zone-less and impossible dates with 400 ODataError', async () => {
    await withSim({ machines: [{ id: id(1) }] }, async (sim) => {
      for (const literal of [
        "'2026-11-01T00:00:00Z'",
        '2026-11-01',
        '2026-11-01Z',
        '2026-11-01T00:00:00',
        '2026-02-30T00:00:00Z',
        '2026-11-01T24:00:00Z',
        '2026-11-01T00:60:00Z',
        '2026-11-01T00:00:00+24:00',
        '2026-11-01T00:00:00.0000000000000Z',
        '2026-11-01T00:00:00ZZ',
      ]) {
        const r = await filterStatus(sim, `creationDateTimeUtc ge ${literal}`);
        expectApiError(r, 400, 'ODataError');
      }
    });
  });
});

describe('devices that cannot or will not take a scan', () => {
  it('answers 400 ClientVersionNotSupported for Windows 10 before 1709, and 201 from 1709 on', async () => {
    await withSim(
      {
        machines: [
          { id: id(1), osPlatform: 'Windows10', osBuild: 15063 },
          { id: id(2), osPlatform: 'Windows10', osBuild: 16299 },
        ],
      },
      async (sim) => {
        const old = await scan(sim, id(1));
        expectApiError(old, 400, 'ClientVersionNotSupported');
        expect((await scan(sim, id(2))).statusCode).toBe(201);
        expect(sim.actions()).toHaveLength(1);
      },
    );
  });

  it('lets scans of inactive devices from a machines file sit Pending until they time out', async () => {
    const clock = fakeClock();
    await withSim(
      {
        now: clock.now,
        machines: [
          { id: id(1), healthStatus: 'Inactive' },
          { id: id(2), lastSeen: new Date(clock.now() - 10 * DAY).toISOString() },
          { id: id(3), healthStatus: 'Inactive', simulation: { offline: false } },
          { id: id(4) },
        ],
      },
      async (sim) => {
        for (const n of [1, 2, 3, 4]) expect((await scan(sim, id(n))).statusCode).toBe(201);
        clock.advance(5 * 60_000);
        const status = (n: number) =>
          sim
            .actions()
            .find((a) => a.machineId === id(n))
            ?.transitions.at(-1)?.status;
        const now = await get(sim, '/api/machineactions');
        const byMachine = new Map(
          now
            .json<{ value: { machineId: string; status: string }[] }>()
            .value.map((a) => [a.machineId, a.status]),
        );
        expect(byMachine.get(id(1))).toBe('Pending');
        expect(byMachine.get(id(2))).toBe('Pending');
        expect(byMachine.get(id(3))).toBe('Succeeded');
        expect(byMachine.get(id(4))).toBe('Succeeded');
        expect(status(1)).toBe('TimeOut');
      },
    );
  });
});

describe('requests that never belong to the API', () => {
  it('refuses uppercase ids in paths with 400 InvalidInput, before touching any device', async () => {
    await withSim({ machines: [{ id: id(0xabc) }] }, async (sim) => {
      expectApiError(await scan(sim, id(0xabc).toUpperCase()), 400, 'InvalidInput');
      expectApiError(
        await get(sim, `/api/machines/${id(0xabc).toUpperCase()}`),
        400,
        'InvalidInput',
      );
      expectApiError(
        await get(sim, '/api/machineactions/0A1B2C3D-0000-4000-8000-00000000ABCD'),
        400,
        'InvalidInput',
      );
      expect(sim.actions()).toHaveLength(0);
    });
  });

  it('answers 404 in the API error shape to wrong methods, trailing slashes and HEAD, spending no budget', async () => {
    await withSim({ machines: [{ id: id(1) }] }, async (sim) => {
      const headers = { authorization: `Bearer ${sim.issueToken()}` };
      const cases = [
        { method: 'GET' as const, url: `/api/machines/${id(1)}/runAntiVirusScan` },
        { method: 'PUT' as const, url: '/api/machines' },
        { method: 'DELETE' as const, url: '/api/machineactions' },
        { method: 'HEAD' as const, url: '/api/machines' },
      ];
      for (const c of cases) {
        const r = await sim.app.inject({ ...c, headers });
        expect(r.statusCode, `${c.method} ${c.url}`).toBe(404);
        if (c.method !== 'HEAD') expectApiError(r, 404, 'ResourceNotFound');
      }
      const slash = await sim.app.inject({
        method: 'POST',
        url: `/api/machines/${id(1)}/runAntiVirusScan/`,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify({ Comment: 'x', ScanType: 'Quick' }),
      });
      expectApiError(slash, 404, 'ResourceNotFound');
      expect(sim.stats().calls).toBe(0);
      expect(sim.actions()).toHaveLength(0);
      expect(errorCode(await get(sim, '/api/machines/'))).toBe('InvalidInput');
    });
  });
});

describe('the call log misses no call', () => {
  it('logs a request refused before any route ran (body too large) in the API error shape', async () => {
    await withSim({ machines: [{ id: id(1) }] }, async (sim) => {
      const r = await scan(sim, id(1), { Comment: 'x'.repeat(2_000_000), ScanType: 'Quick' });
      expectApiError(r, 413, 'BadRequest');
      const last = sim.calls().at(-1);
      expect(last).toMatchObject({ method: 'POST', status: 413, family: 'unrouted' });
      expect(last?.path).toBe(`/api/machines/${id(1)}/runAntiVirusScan`);
      expect(sim.actions()).toHaveLength(0);
    });
  });
});

describe('machine ids in $filter', () => {
  it('refuses an unquoted machineId or id value with 400 ODataError', async () => {
    await withSim({ machines: [{ id: id(0xabc) }, { id: 'a'.repeat(40) }] }, async (sim) => {
      for (const filter of [`machineId eq ${id(0xabc)}`, `machineId eq ${'a'.repeat(40)}`]) {
        const r = await get(sim, `/api/machineactions?$filter=${encodeURIComponent(filter)}`);
        expectApiError(r, 400, 'ODataError');
      }
      const r = await get(
        sim,
        `/api/machines?$filter=${encodeURIComponent(`id eq ${'a'.repeat(40)}`)}`,
      );
      expectApiError(r, 400, 'ODataError');
      const ok = await get(
        sim,
        `/api/machines?$filter=${encodeURIComponent(`id eq '${'a'.repeat(40)}'`)}`,
      );
      expect(ok.json<{ value: unknown[] }>().value).toHaveLength(1);
    });
  });
});
