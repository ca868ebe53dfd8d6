import { describe, expect, it } from 'vitest';
import { machineTagFilter } from '../../src/defender/odata.js';
import { collect, listCalls, taggedFleet, withSimClient } from './paging-kit.js';

describe('contract: nextLinks lose their parameter names', () => {
  it('never follows a nameless nextLink, so a tag filter is never widened to the tenant', async () => {
    const fleet = taggedFleet(30, 12, 'wave');
    await withSimClient(
      { machines: fleet, defaultPageSize: 5 },
      { pageSize: 5 },
      async ({ sim, api, url }) => {
        // The quirk is on: without $top the link drops `$filter` and reads the whole tenant.
        const auth = { authorization: `Bearer ${sim.issueToken()}` };
        const filter = encodeURIComponent(machineTagFilter('wave'));
        const first = (await (
          await fetch(`${url}/api/machines?$filter=${filter}`, { headers: auth })
        ).json()) as {
          '@odata.nextLink': string;
        };
        expect(first['@odata.nextLink']).toMatch(/\?=.*&=5&\$skip=5$/);
        // Two links on, past the 12 tagged devices: untagged ones come back.
        let link = first['@odata.nextLink'];
        let followed: { value: { machineTags: string[] }[]; '@odata.nextLink': string } | undefined;
        for (let page = 0; page < 2; page++) {
          followed = (await (await fetch(link, { headers: auth })).json()) as typeof followed & {};
          link = followed['@odata.nextLink'];
        }
        expect(followed?.value.some((m) => !m.machineTags.includes('wave'))).toBe(true);

        const before = listCalls(sim, 'machines').length;
        const machines = await collect(api.listMachines(machineTagFilter('wave')));
        expect(machines.map((m) => m.id)).toEqual(fleet.slice(0, 12).map((m) => m.id));
        const paths = listCalls(sim, 'machines')
          .slice(before)
          .map((c) => decodeURIComponent(c.path));
        expect(paths).toHaveLength(3);
        for (const path of paths) {
          expect(path).toContain(`$filter=${machineTagFilter('wave')}&$top=5`);
          expect(path).not.toMatch(/[?&]=/);
        }
      },
    );
  });
});
