import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/auth/token-provider.js';
import { createDefenderClient } from '../../src/defender/client.js';
import { DefenderError } from '../../src/defender/errors.js';
import { withSimulator } from '../helpers/with-simulator.js';
import { defenderOn, recordingGate, silent } from './fidelity-kit.js';

const plain = { busy: 0, offline: 0, inactive: 0, unsupportedOs: 0, excluded: 0, duplicate: 0 };

describe('contract: OData and permissions the real API accepts', () => {
  it('quirk odata-filters: ne, startswith() and the fields version, deviceValue, aadDeviceId, lastIpAddress filter List Machines', async () => {
    await withSimulator({ fleet: 120, fleetMix: plain }, async ({ url, sim }) => {
      const api = defenderOn(sim, url, recordingGate());
      const ids = async (filter: string) => {
        const found: string[] = [];
        for await (const m of api.listMachines(filter)) found.push(m.id);
        return found.sort();
      };
      const expectIds = (pick: (m: (typeof sim.machines)[number]) => boolean) =>
        sim.machines
          .filter(pick)
          .map((m) => m.id)
          .sort();
      const one = sim.machines[7];
      if (!one) throw new Error('fleet too small');
      expect(await ids("osPlatform ne 'Windows10'")).toEqual(
        expectIds((m) => m.osPlatform !== 'Windows10'),
      );
      expect(await ids("startswith(computerDnsName,'srv-')")).toEqual(
        expectIds((m) => m.computerDnsName.startsWith('srv-')),
      );
      expect(await ids("version eq '23H2'")).toEqual(expectIds((m) => m['version'] === '23H2'));
      expect(await ids("deviceValue eq 'Normal'")).toEqual(
        expectIds((m) => m['deviceValue'] === 'Normal'),
      );
      expect(await ids(`aadDeviceId eq '${String(one['aadDeviceId'])}'`)).toEqual([one.id]);
      expect(await ids(`lastIpAddress eq '${String(one['lastIpAddress'])}'`)).toEqual(
        expectIds((m) => m['lastIpAddress'] === one['lastIpAddress']),
      );
      // Names match case-insensitively, as clients that write CreationDateTimeUtc rely on.
      expect(await ids("HealthStatus eq 'Active'")).toEqual(
        expectIds((m) => m.healthStatus === 'Active'),
      );
      api.close();
    });
  });

  it('quirk odata-rbacgroupname: rbacGroupName stays refused with 400 ODataError', async () => {
    await withSimulator({ fleet: 5 }, async ({ url, sim }) => {
      const api = defenderOn(sim, url, recordingGate());
      const error = await (async () => {
        for await (const m of api.listMachines("rbacGroupName eq 'Servers'")) return m;
        return undefined;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DefenderError);
      expect(error).toMatchObject({ status: 400, code: 'ODataError', retry: 'never' });
      api.close();
    });
  });

  it('quirk odata-orderby-count: $orderby and $count are answered, in order and with @odata.count', async () => {
    await withSimulator({ fleet: 30, fleetMix: plain }, async ({ url, sim }) => {
      const token = sim.issueToken();
      const reply = await fetch(
        `${url}/api/machines?$filter=${encodeURIComponent("osPlatform ne 'Linux'")}&$orderby=${encodeURIComponent('lastSeen desc,computerDnsName')}&$count=true`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(reply.status).toBe(200);
      const body = (await reply.json()) as {
        '@odata.count': number;
        value: { lastSeen: string }[];
      };
      const expected = sim.machines.filter((m) => m.osPlatform !== 'Linux');
      expect(body['@odata.count']).toBe(expected.length);
      const seen = body.value.map((m) => Date.parse(m.lastSeen));
      expect(seen).toEqual([...seen].sort((a, b) => b - a));
      const actions = await fetch(
        `${url}/api/machineactions?$orderby=${encodeURIComponent('CreationDateTimeUtc desc')}`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(actions.status).toBe(200);
    });
  });

  it('quirk cancel-permissions: any Machine.* action permission may cancel; a read-only app may not', async () => {
    for (const [roles, status] of [
      [['Machine.Isolate', 'Machine.Read.All'], 200],
      [['Machine.LiveResponse', 'Machine.Read.All'], 200],
      [['Machine.Read.All'], 403],
    ] as const) {
      await withSimulator({ fleet: 3, fleetMix: plain, appRoles: roles }, async ({ url, sim }) => {
        const [action] = sim.addActions([
          {
            machineId: sim.machines[0]?.id ?? '',
            comment: 'contract',
            createdMs: sim.now(),
            finishesAtMs: sim.now() + 3_600_000,
          },
        ]);
        const api = createDefenderClient({
          apiUrl: url,
          tokens: staticTokenProvider(sim.issueToken()),
          gate: recordingGate(),
          timeoutMs: 30_000,
          pageSize: 10_000,
          throttleDefaultMs: 1_000,
          log: silent,
        });
        const outcome = await api
          .cancelMachineAction(action?.id ?? '', 'contract: stop')
          .then((a) => ({ status: 200, a }))
          .catch((e: unknown) => ({ status: e instanceof DefenderError ? e.status : -1, a: null }));
        expect(outcome.status).toBe(status);
        api.close();
      });
    }
  });
});
