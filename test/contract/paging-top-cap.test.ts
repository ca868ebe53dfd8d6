import { describe, expect, it } from 'vitest';
import { collect, listCalls, taggedFleet, withSimClient } from './paging-kit.js';

describe('contract: $top caps the whole answer and then no nextLink comes', () => {
  it('reads a 25,000-device tenant in 3 list calls of $top=10000 + $skip', async () => {
    await withSimClient(
      { machines: taggedFleet(25_000, 0, 'none') },
      { pageSize: 10_000 },
      async ({ sim, api }) => {
        const machines = await collect(api.listMachines());
        expect(machines).toHaveLength(25_000);
        expect(new Set(machines.map((m) => m.id)).size).toBe(25_000);
        const calls = listCalls(sim, 'machines').map((c) => decodeURIComponent(c.path));
        expect(calls).toEqual([
          '/api/machines?$top=10000',
          '/api/machines?$top=10000&$skip=10000',
          '/api/machines?$top=10000&$skip=20000',
        ]);
      },
    );
  }, 60_000);

  it('answers $top without a nextLink, and the client still reads past the first answer', async () => {
    await withSimClient(
      { machines: taggedFleet(25, 0, 'none') },
      { pageSize: 10 },
      async ({ sim, api, url }) => {
        // The quirk is on: a capped answer carries no nextLink although more devices exist.
        const raw = await fetch(`${url}/api/machines?$top=10`, {
          headers: { authorization: `Bearer ${sim.issueToken()}` },
        });
        const body = (await raw.json()) as { value: unknown[]; '@odata.nextLink'?: string };
        expect(body.value).toHaveLength(10);
        expect(body['@odata.nextLink']).toBeUndefined();

        const before = listCalls(sim, 'machines').length;
        expect(await collect(api.listMachines())).toHaveLength(25);
        expect(listCalls(sim, 'machines').length - before).toBe(3);
      },
    );
  });

  it('ends on the 404 of an answer past the last device when the tenant fills whole pages', async () => {
    await withSimClient(
      { machines: taggedFleet(20, 0, 'none') },
      { pageSize: 10 },
      async ({ sim, api }) => {
        expect(await collect(api.listMachines())).toHaveLength(20);
        expect(listCalls(sim, 'machines').map((c) => c.status)).toEqual([200, 200, 404]);
      },
    );
  });
});
