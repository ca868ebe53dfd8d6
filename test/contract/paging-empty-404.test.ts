import { describe, expect, it } from 'vitest';
import { machineTagFilter } from '../../src/defender/odata.js';
import { collect, listCalls, taggedFleet, withSimClient } from './paging-kit.js';

describe('contract: an empty list answers 404', () => {
  it('reads the 404 of a machine filter that matches nothing as no devices', async () => {
    await withSimClient(
      { machines: taggedFleet(5, 2, 'wave') },
      { pageSize: 10 },
      async ({ sim, api }) => {
        expect(await collect(api.listMachines(machineTagFilter('nothing-has-this')))).toEqual([]);
        const calls = listCalls(sim, 'machines');
        expect(calls.map((c) => [c.status, c.code])).toEqual([[404, 'ResourceNotFound']]);
      },
    );
  });

  it('reads the 404 of an empty List MachineActions as no actions', async () => {
    await withSimClient(
      { machines: taggedFleet(5, 0, 'none'), emptyListAs404: true },
      { pageSize: 10 },
      async ({ sim, api }) => {
        expect(
          await collect(api.listMachineActions({ requestor: 'nobody@contoso.example' })),
        ).toEqual([]);
        expect(listCalls(sim, 'machineActions').map((c) => c.status)).toEqual([404]);
      },
    );
  });
});
