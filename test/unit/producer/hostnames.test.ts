import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/defender/machine-action.js';
import { readDeviceFile } from '../../../src/producer/sources/read-device-file.js';
import { resolveTargets } from '../../../src/producer/sources/resolve-targets.js';
import { deviceFile, machineId } from './device-files.js';

const A = machineId(1);
const B = machineId(2);

/** Reads every chunk, taking the host names after each one as `fleetscan scan` does. */
async function namesOf(source: {
  chunks: AsyncIterable<string[]>;
  takeHostnames(): Map<string, string>;
}): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for await (const chunk of source.chunks) {
    const taken = source.takeHostnames();
    for (const id of chunk) if (taken.has(id)) names[id] = taken.get(id) ?? '';
    expect(source.takeHostnames().size).toBe(0);
  }
  return names;
}

describe('host names from device lists', () => {
  it.each([
    ['Device ID,Device Name', `Device ID,Device Name\n${A},WS-0001\n${B},\n`, 'csv'],
    ['machineId;computerDnsName', `machineId;computerDnsName\n${A};WS-0001\n${B};\n`, 'csv'],
    [
      'DeviceName in NDJSON',
      `{"DeviceName":"WS-0001","deviceId":"${A}"}\n{"deviceId":"${B}"}\n`,
      'ndjson',
    ],
    ['computerDnsName in JSON', `[{"id":"${A}","computerDnsName":"WS-0001"},"${B}"]`, 'json'],
  ])('keeps the %s column', async (_name, content, ext) => {
    const source = await readDeviceFile(await deviceFile(`devices.${ext}`, content));
    expect(await namesOf(source)).toEqual({ [A]: 'WS-0001' });
  });

  it('takes computerDnsName from List Machines', async () => {
    const machines: Machine[] = [1, 2].map((n) => ({
      id: machineId(n),
      computerDnsName: n === 1 ? 'srv-01.contoso.example' : null,
      healthStatus: 'Active',
      onboardingStatus: 'Onboarded',
      osPlatform: 'Windows11',
      isExcluded: false,
      isPotentialDuplication: false,
      mergedIntoMachineId: null,
    }));
    const targets = resolveTargets(
      {
        async *listMachines() {
          await Promise.resolve();
          yield* machines;
        },
      },
      { tags: ['x'] },
    );
    expect(await namesOf(targets)).toEqual({ [A]: 'srv-01.contoso.example' });
  });
});
