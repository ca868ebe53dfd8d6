import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';
import { fakeClock, get, healthyIds, scan } from './sim-kit.js';

describe('the call log', () => {
  it('records every call in memory and as one NDJSON line, with arrival time, family, status, code and ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetscan-sim-log-'));
    const file = join(dir, 'calls.ndjson');
    const clock = fakeClock();
    const sim = await buildSimulator({
      fleet: 5,
      fleetMix: { busy: 0, offline: 0, inactive: 0, duplicate: 0, unsupportedOs: 0 },
      now: clock.now,
      callLogFile: file,
    });
    try {
      const id = healthyIds(sim)[0]!;
      const created = (await scan(sim, id)).json<{ id: string }>();
      clock.advance(10);
      await scan(sim, id);
      clock.advance(10);
      await get(sim, '/api/machines?$top=1');
      await sim.app.inject({ method: 'GET', url: '/api/machineactions' });
      const calls = sim.calls();
      expect(calls).toHaveLength(4);
      expect(calls[0]).toMatchObject({
        t: clock.now() - 20,
        method: 'POST',
        path: `/api/machines/${id}/runAntiVirusScan`,
        family: 'scan',
        status: 201,
        code: null,
        machineId: id,
        actionId: created.id,
        lost: false,
        appId: sim.credentials.clientId,
      });
      expect(calls[1]).toMatchObject({
        status: 400,
        code: 'ActiveRequestAlreadyExists',
        actionId: null,
        machineId: id,
      });
      expect(calls[2]).toMatchObject({ family: 'machines', status: 200 });
      expect(calls[3]).toMatchObject({ family: 'machineActions', status: 401, appId: null });
      await sim.close();
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(calls);
      expect(sim.stats()).toMatchObject({
        calls: 4,
        byFamily: { scan: 2, machineActions: 1, cancel: 0, machines: 1 },
        byStatus: { '201': 1, '400': 1, '200': 1, '401': 1 },
        actionsCreated: 1,
      });
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails at start when the call log cannot be written', async () => {
    await expect(
      buildSimulator({ fleet: 1, callLogFile: '/nonexistent-dir/calls.ndjson' }),
    ).rejects.toThrow(/ENOENT/);
  });
});
