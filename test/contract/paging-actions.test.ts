import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/build-simulator.js';
import { collect, countingGate, listCalls, taggedFleet, withSimClient } from './paging-kit.js';

const HOUR = 3_600_000;

/** `count` scan actions on the fleet's devices, created `spacingMs` apart ending now - 1 s. */
function addScans(sim: Simulator, count: number, spacingMs: number, comment: string) {
  const now = sim.now();
  return sim.addActions(
    Array.from({ length: count }, (_, n) => ({
      machineId: sim.machines[n % sim.machines.length]?.id ?? '',
      comment,
      createdMs: now - 1_000 - (count - n) * spacingMs,
      finishesAtMs: now + HOUR,
    })),
  );
}

/**
 * Runs one listing pass while `grow` new actions are created before every list call, as a
 * campaign still sending does; returns the ids read and the calls made.
 */
async function readWhileGrowing(options: {
  existing: number;
  spacingMs: number;
  pageSize: number;
  grow: number;
}) {
  let sim: Simulator | undefined;
  const { gate } = countingGate((family) => {
    if (family === 'machineActions' && sim) addScans(sim, options.grow, 0, 'new [fleetscan:c-new]');
  });
  return withSimClient(
    { machines: taggedFleet(50, 0, 'none') },
    { pageSize: options.pageSize, gate },
    async (handle) => {
      sim = handle.sim;
      const since = handle.sim.now() - 24 * HOUR;
      const existing = addScans(
        handle.sim,
        options.existing,
        options.spacingMs,
        'old [fleetscan:c-old]',
      );
      const read = await collect(
        handle.api.listMachineActions({ type: 'RunAntiVirusScan', createdSince: since }),
      );
      return {
        existing: existing.map((a) => a.id),
        read: read.map((a) => a.id),
        calls: listCalls(handle.sim, 'machineActions').length,
      };
    },
  );
}

/** Actions that existed before the pass and were not read (a Set: 12,000 × 12,000 is slow). */
function missing(result: { existing: string[]; read: string[] }): string[] {
  const read = new Set(result.read);
  return result.existing.filter((id) => !read.has(id));
}

describe('contract: List MachineActions answers newest first and grows while it is read', () => {
  it('reads every action of a growing newest-first list once, none skipped', async () => {
    const result = await readWhileGrowing({ existing: 25, spacingMs: 7, pageSize: 10, grow: 3 });
    expect(new Set(result.read).size).toBe(result.read.length);
    expect(missing(result)).toEqual([]);
    // Slices of one answer each: [since, ∞) and then older and older ones, one cut at a time.
    expect(result.calls).toBeLessThanOrEqual(4);
  });

  it('reads a millisecond that holds more than a whole answer through $skip, none skipped', async () => {
    const result = await readWhileGrowing({ existing: 25, spacingMs: 0, pageSize: 10, grow: 3 });
    expect(new Set(result.read).size).toBe(result.read.length);
    expect(missing(result)).toEqual([]);
  });

  it('reads 12,000 actions of a growing list in 2 calls of $top=10000', async () => {
    const result = await readWhileGrowing({
      existing: 12_000,
      spacingMs: 5,
      pageSize: 10_000,
      grow: 100,
    });
    expect(new Set(result.read).size).toBe(result.read.length);
    expect(missing(result)).toEqual([]);
    expect(result.calls).toBe(2);
  }, 60_000);
});
