import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSimulator } from '../../../src/simulator/build-simulator.js';
import { generateFleet } from '../../../src/simulator/fleet.js';
import { readMachinesFile } from '../../../src/simulator/machine-file.js';
import { errorCode, scan } from './sim-kit.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('generated fleets', () => {
  it('is the same fleet for the same seed, and another for another seed', () => {
    expect(generateFleet(500, 9, NOW)).toEqual(generateFleet(500, 9, NOW));
    expect(generateFleet(50, 10, NOW)[0]!.id).not.toBe(generateFleet(50, 9, NOW)[0]!.id);
  });

  it('mixes in inactive, excluded, duplicate, unsupported, offline and busy devices', () => {
    const fleet = generateFleet(5000, 1, NOW);
    const share = (p: (m: (typeof fleet)[number]) => boolean) =>
      fleet.filter(p).length / fleet.length;
    expect(new Set(fleet.map((m) => m.id)).size).toBe(5000);
    expect(fleet.every((m) => /^[0-9a-f]{40}$/.test(m.id))).toBe(true);
    expect(
      share((m) => m.healthStatus === 'Active' && m.osPlatform.startsWith('Windows')),
    ).toBeGreaterThan(0.75);
    expect(share((m) => m.healthStatus === 'Inactive')).toBeGreaterThan(0.02);
    expect(share((m) => m.isExcluded)).toBeGreaterThan(0.003);
    expect(share((m) => m.isPotentialDuplication)).toBeGreaterThan(0.003);
    expect(fleet.some((m) => m.mergedIntoMachineId !== null)).toBe(true);
    expect(share((m) => ['iOS', 'Android'].includes(m.osPlatform))).toBeGreaterThan(0.01);
    expect(
      share((m) => m.simulation.offline === true && m.healthStatus !== 'Inactive'),
    ).toBeGreaterThan(0.01);
    expect(share((m) => m.simulation.busyWithOtherScan === true)).toBeGreaterThan(0.01);
    expect(fleet.some((m) => m.machineTags.length > 0)).toBe(true);
  });

  it('loads an explicit device list and refuses a malformed one', async () => {
    const sim = await buildSimulator({ machines: [{ id: 'c'.repeat(40), osPlatform: 'Android' }] });
    try {
      expect(sim.machines).toHaveLength(1);
      expect(errorCode(await scan(sim, 'c'.repeat(40)))).toBe('OsPlatformNotSupported');
    } finally {
      await sim.close();
    }
    await expect(buildSimulator({ machines: [{ id: 'NOT-HEX' }] })).rejects.toThrow(
      /machines\[0\]/,
    );
    await expect(
      buildSimulator({ machines: [{ id: 'c'.repeat(40) }, { id: 'c'.repeat(40) }] }),
    ).rejects.toThrow(/duplicate/);
  });

  it('reads a devices file as a JSON array or as an API-style { value } page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetscan-sim-machines-'));
    try {
      const device = { id: 'd'.repeat(40), simulation: { offline: true } };
      await writeFile(join(dir, 'a.json'), JSON.stringify([device]));
      await writeFile(join(dir, 'b.json'), JSON.stringify({ value: [device] }));
      await writeFile(join(dir, 'c.json'), JSON.stringify({ devices: [] }));
      expect(await readMachinesFile(join(dir, 'a.json'))).toEqual([device]);
      expect(await readMachinesFile(join(dir, 'b.json'))).toEqual([device]);
      await expect(readMachinesFile(join(dir, 'c.json'))).rejects.toThrow(/array/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
