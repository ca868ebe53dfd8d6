import { describe, expect, it } from 'vitest';
import { DefenderError } from '../../src/defender/errors.js';
import { resolveTargets } from '../../src/producer/sources/resolve-targets.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { defenderOn, recordingGate } from './fidelity-kit.js';

const REACHABLE_BUT_IMPAIRED = [
  'ImpairedCommunication',
  'NoSensorData',
  'NoSensorDataImpairedCommunication',
];

describe('contract: which devices can take a scan', () => {
  it('quirk health-states: impaired and no-sensor-data devices are targeted and take the scan; only Inactive is skipped as inactive', async () => {
    await withSimulator(
      {
        fleet: 300,
        fleetMix: {
          impaired: 0.2,
          inactive: 0.1,
          busy: 0,
          offline: 0,
          excluded: 0,
          duplicate: 0,
          unsupportedOs: 0,
        },
      },
      async ({ url, sim }) => {
        const api = defenderOn(sim, url, recordingGate());
        const source = resolveTargets(api, {});
        const ids: string[] = [];
        for await (const chunk of source.chunks) ids.push(...chunk);
        const byId = new Map(sim.machines.map((m) => [m.id, m]));
        const impaired = sim.machines.filter((m) =>
          REACHABLE_BUT_IMPAIRED.includes(m.healthStatus),
        );
        const inactive = sim.machines.filter((m) => m.healthStatus === 'Inactive');
        expect(impaired.length).toBeGreaterThan(20);
        for (const m of impaired) expect(ids).toContain(m.id);
        expect(source.report.skipped.inactive).toBe(inactive.length);
        expect(ids.some((id) => byId.get(id)?.healthStatus === 'Inactive')).toBe(false);
        // They really take the command.
        const first = impaired[0];
        if (!first) throw new Error('no impaired device');
        const action = await api.runAntiVirusScan(first.id, {
          comment: 'contract',
          scanType: 'Quick',
        });
        expect(action).toMatchObject({ machineId: first.id, type: 'RunAntiVirusScan' });
        api.close();
      },
    );
  });

  it('quirk client-version: macOS/Linux clients below 101.98.84 are skipped as unsupported-client-version, and the API refuses them', async () => {
    await withSimulator(
      {
        fleet: 200,
        fleetMix: {
          oldClient: 0.1,
          busy: 0,
          offline: 0,
          inactive: 0,
          excluded: 0,
          duplicate: 0,
          unsupportedOs: 0,
        },
      },
      async ({ url, sim }) => {
        const api = defenderOn(sim, url, recordingGate());
        const source = resolveTargets(api, {});
        const ids: string[] = [];
        for await (const chunk of source.chunks) ids.push(...chunk);
        const old = sim.machines.filter(
          (m) =>
            (m.osPlatform === 'macOS' || m.osPlatform === 'Linux') &&
            String(m['agentVersion']).split('.')[1] !== undefined &&
            Number(String(m['agentVersion']).split('.')[1]) < 98,
        );
        expect(old.length).toBeGreaterThan(5);
        expect(source.report.skipped['unsupported-client-version']).toBe(old.length);
        const modern = sim.machines.filter(
          (m) => (m.osPlatform === 'macOS' || m.osPlatform === 'Linux') && !old.includes(m),
        );
        for (const m of modern) expect(ids).toContain(m.id);
        const oldOne = old[0];
        if (!oldOne) throw new Error('no old client');
        const refused = await api
          .runAntiVirusScan(oldOne.id, { comment: 'contract', scanType: 'Quick' })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(DefenderError);
        expect(refused).toMatchObject({
          status: 400,
          code: 'ClientVersionNotSupported',
          retry: 'never',
        });
        api.close();
      },
    );
  });
});
