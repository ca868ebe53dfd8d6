import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/defender/machine-action.js';
import { TargetQueryError } from '../../../src/producer/sources/errors.js';
import {
  resolveTargets,
  type MachineLister,
  type ResolveTargetsOptions,
} from '../../../src/producer/sources/resolve-targets.js';
import { buildTargetFilter } from '../../../src/producer/sources/target-filter.js';
import { machineId } from './device-files.js';

/** A healthy, scan-capable device; `overrides` make it otherwise. */
function machine(n: number, overrides: Partial<Machine> = {}): Machine {
  return {
    id: machineId(n),
    healthStatus: 'Active',
    onboardingStatus: 'Onboarded',
    osPlatform: 'Windows11',
    rbacGroupName: 'Servers',
    isExcluded: false,
    isPotentialDuplication: false,
    mergedIntoMachineId: null,
    ...overrides,
  };
}

/** A fake List Machines that records the filters it was asked for. */
function fakeClient(machines: Machine[]): MachineLister & { filters: (string | undefined)[] } {
  const filters: (string | undefined)[] = [];
  return {
    filters,
    async *listMachines(filter?: string) {
      filters.push(filter);
      await Promise.resolve();
      yield* machines;
    },
  };
}

async function resolveAll(machines: Machine[], options: ResolveTargetsOptions) {
  const client = fakeClient(machines);
  const source = resolveTargets(client, options);
  const chunks: string[][] = [];
  for await (const chunk of source.chunks) chunks.push(chunk);
  return { chunks, ids: chunks.flat(), report: source.report, filters: client.filters };
}

describe('buildTargetFilter', () => {
  it('puts a raw query in parentheses', () => {
    expect(buildTargetFilter({ query: "osPlatform eq 'Linux'" })).toBe("(osPlatform eq 'Linux')");
  });

  it('builds one tag clause without parentheses', () => {
    expect(buildTargetFilter({ tags: ['prod'] })).toBe("machineTags/any(tag: tag eq 'prod')");
  });

  it("OR's several tags and ANDs them with the query", () => {
    expect(buildTargetFilter({ query: "riskScore eq 'High'", tags: ['a', 'b'] })).toBe(
      "(riskScore eq 'High') and (machineTags/any(tag: tag eq 'a') or machineTags/any(tag: tag eq 'b'))",
    );
  });

  it('doubles single quotes inside a tag', () => {
    expect(buildTargetFilter({ tags: ["o'brien') or (1 eq 1"] })).toBe(
      "machineTags/any(tag: tag eq 'o''brien'') or (1 eq 1')",
    );
  });

  it('gives no filter when there is nothing to filter on', () => {
    expect(buildTargetFilter({})).toBeUndefined();
    expect(buildTargetFilter({ tags: [] })).toBeUndefined();
  });

  it('refuses an empty query or tag', () => {
    expect(() => buildTargetFilter({ query: '  ' })).toThrow(TargetQueryError);
    expect(() => buildTargetFilter({ tags: ['ok', ' '] })).toThrow(/--tag: empty tag/);
  });
});

describe('resolveTargets', () => {
  it('lists machines with the built filter and yields their ids in chunks', async () => {
    const machines = Array.from({ length: 5 }, (_, i) => machine(i + 1));
    const { chunks, filters, report } = await resolveAll(machines, { tags: ['x'], chunkSize: 2 });
    expect(filters).toEqual(["machineTags/any(tag: tag eq 'x')"]);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 1]);
    expect(report).toMatchObject({ listed: 5, matched: 5, selected: 5 });
  });

  it('skips and counts devices by reason', async () => {
    const machines = [
      machine(1),
      machine(2, { healthStatus: 'Inactive' }),
      machine(3, { healthStatus: 'ImpairedCommunication' }),
      machine(4, { onboardingStatus: 'CanBeOnboarded' }),
      machine(5, { isExcluded: true }),
      machine(6, { mergedIntoMachineId: machineId(99) }),
      machine(7, { isPotentialDuplication: true }),
      machine(8, { osPlatform: 'Windows7' }),
      machine(9, { osPlatform: 'iOS' }),
      machine(10, { id: 'not-a-machine-id' }),
      machine(11, { osPlatform: 'Linux', agentVersion: '101.24092.0004' }),
      machine(12, { healthStatus: 'NoSensorData' }),
      machine(13, { healthStatus: 'NoSensorDataImpairedCommunication' }),
      machine(14, { osPlatform: 'macOS', agentVersion: '101.98.30' }),
      machine(15, { healthStatus: 'Unknown' }),
    ];
    const { ids, report } = await resolveAll(machines, {});
    // Impaired and no-sensor-data devices still take commands: only Inactive is skipped as such.
    expect(ids).toEqual([1, 3, 11, 12, 13, 15].map(machineId));
    expect(report).toEqual({
      filter: undefined,
      listed: 15,
      matched: 15,
      selected: 6,
      skipped: {
        'invalid-id': 1,
        merged: 1,
        excluded: 1,
        duplicate: 1,
        'not-onboarded': 1,
        'unsupported-platform': 2,
        'unsupported-client-version': 1,
        inactive: 1,
      },
    });
  });

  it('keeps inactive devices with includeInactive, but no other skipped ones', async () => {
    const machines = [
      machine(1, { healthStatus: 'Inactive' }),
      machine(2, { healthStatus: 'NoSensorData', isExcluded: true }),
      machine(3, { healthStatus: 'ImpairedCommunication' }),
    ];
    const { ids, report } = await resolveAll(machines, { includeInactive: true });
    expect(ids).toEqual([machineId(1), machineId(3)]);
    expect(report.skipped).toMatchObject({ inactive: 0, excluded: 1 });
  });

  it('selects the group by rbacGroupName case-insensitively, not counting others as skipped', async () => {
    const machines = [
      machine(1, { rbacGroupName: 'Servers' }),
      machine(2, { rbacGroupName: 'Workstations' }),
      machine(3, { rbacGroupName: 'SERVERS ' }),
      machine(4, { rbacGroupName: null }),
    ];
    const { ids, report, filters } = await resolveAll(machines, { group: ' servers' });
    expect(filters).toEqual([undefined]);
    expect(ids).toEqual([machineId(1), machineId(3)]);
    expect(report).toMatchObject({ listed: 4, matched: 2, selected: 2 });
    expect(Object.values(report.skipped).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('lowercases ids from the API', async () => {
    const upper = machineId(10).toUpperCase();
    const { ids } = await resolveAll([machine(10, { id: upper })], {});
    expect(ids).toEqual([machineId(10)]);
  });

  it('keeps devices whose status fields the API left out', async () => {
    const bare: Machine = { id: machineId(1) };
    const { ids } = await resolveAll([bare], {});
    expect(ids).toEqual([machineId(1)]);
  });

  it('refuses an empty group name before listing anything', () => {
    const client = fakeClient([]);
    expect(() => resolveTargets(client, { group: ' ' })).toThrow(TargetQueryError);
    expect(client.filters).toEqual([]);
  });
});
