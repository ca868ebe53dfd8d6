import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listedDeviceSource, openDeviceSource } from '../../../src/control/scan-sources.js';
import type { Machine } from '../../../src/defender/machine-action.js';
import type { MachineLister } from '../../../src/producer/sources/resolve-targets.js';
import { TargetQueryError } from '../../../src/producer/sources/errors.js';

const id = (n: number) => n.toString(16).padStart(40, '0');

function lister(machines: Machine[]): MachineLister & { filters: (string | undefined)[] } {
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

const onboarded = (n: number, extra: Partial<Machine> = {}): Machine => ({
  id: id(n),
  computerDnsName: `host-${String(n)}`,
  healthStatus: 'Active',
  onboardingStatus: 'Onboarded',
  osPlatform: 'Windows11',
  ...extra,
});

async function read(chunks: AsyncIterable<string[]>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(...chunk);
  return out;
}

describe('openDeviceSource (the one device source of the CLI, the API and schedules)', () => {
  it('reads a device file, names it by its base name and never asks List Machines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-sources-'));
    const file = join(dir, 'ids.txt');
    writeFileSync(file, `${id(1)}\nnot-an-id\n${id(2)}\n`);
    const source = await openDeviceSource({ devices: file, query: 'ignored' }, () => {
      throw new Error('List Machines asked for a device file');
    });
    expect(source.description).toBe('file:ids.txt');
    expect(await read(source.chunks)).toEqual([id(1), id(2)]);
    expect(source.valid()).toBe(2);
    expect(source.invalid().count).toBe(1);
  });

  it('refuses a whole file with strict before any campaign exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-sources-'));
    const file = join(dir, 'ids.txt');
    writeFileSync(file, `${id(1)}\nnot-an-id\n`);
    await expect(
      openDeviceSource({ devices: file, strict: true }, () => lister([])),
    ).rejects.toThrow(/not-an-id|line 2/);
  });

  it('lists targets through List Machines, skips by rule, describes them and ends once', async () => {
    const machines = lister([
      onboarded(1, { machineTags: ['Servers'] }),
      onboarded(2, { healthStatus: 'Inactive', machineTags: ['Servers'] }),
      onboarded(3, { machineTags: ['Servers'] }),
    ]);
    let ended = 0;
    const source = await openDeviceSource(
      { devices: null, tags: ['Servers'], group: null, query: null, all: false },
      () => machines,
      () => {
        ended += 1;
      },
    );
    expect(source.description).toBe('tag:Servers');
    expect(await read(source.chunks)).toEqual([id(1), id(3)]);
    expect(source.skipped()).toEqual({ inactive: 1 });
    expect(machines.filters).toHaveLength(1);
    expect(ended).toBe(1);
  });

  it('names every device `all`', () => {
    expect(listedDeviceSource(lister([]), { all: true }).description).toBe('all');
  });

  it('refuses an empty group at once, before listing', () => {
    const machines = lister([onboarded(1)]);
    expect(() => listedDeviceSource(machines, { group: ' ' })).toThrow(TargetQueryError);
    expect(machines.filters).toEqual([]);
  });
});
