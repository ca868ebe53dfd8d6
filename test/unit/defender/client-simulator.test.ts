import { describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../../src/auth/token-provider.js';
import type { DefenderClientOptions } from '../../../src/defender/client.js';
import type { Simulator } from '../../../src/simulator/build-simulator.js';
import { withSimulator } from '../../helpers/with-simulator.js';
import { failure, fakeGate, testClient } from './fakes.js';

const DEVICE = 'aa'.repeat(20);

function client(
  url: string,
  sim: Simulator,
  parts: Partial<DefenderClientOptions> & Pick<DefenderClientOptions, 'gate'>,
) {
  return testClient(url, {
    tokens: staticTokenProvider(sim.issueToken()),
    timeoutMs: 5_000,
    pageSize: 10,
    ...parts,
  });
}

describe('the client against the simulator', () => {
  it('opens connections before the first call without spending a slot or calling the API', async () => {
    const { gate, events } = fakeGate();
    await withSimulator({ machines: [{ id: DEVICE }] }, async ({ url, sim }) => {
      const api = client(url, sim, { gate });
      expect(await api.warmUp?.(4)).toBe(4);
      await api.runAntiVirusScan(DEVICE, { comment: 'after warming', scanType: 'Quick' });
      api.close();
      // Four HEADs of the root, outside the API and without a token; then the one scan call.
      expect(sim.calls().map((c) => [c.family, c.method, c.appId])).toEqual([
        ...Array.from({ length: 4 }, () => ['unrouted', 'HEAD', null]),
        ['scan', 'POST', expect.any(String)],
      ]);
    });
    expect(events.filter((event) => event.type === 'acquire')).toHaveLength(1);
  });

  it('reads a whole fleet through @odata.nextLink, one budget slot per page', async () => {
    const { gate, events } = fakeGate();
    await withSimulator({ fleet: 25 }, async ({ url, sim }) => {
      const api = client(url, sim, { gate });
      const ids: string[] = [];
      for await (const machine of api.listMachines()) ids.push(machine.id);
      api.close();
      expect(new Set(ids).size).toBe(25);
      expect(ids.sort()).toEqual(sim.machines.map((m) => m.id).sort());
      expect(sim.stats().byFamily.machines).toBe(3);
    });
    expect(events.filter((event) => event.type === 'acquire')).toHaveLength(3);
    expect(events.filter((event) => event.type === 'settle')).toHaveLength(3);
  });

  it('creates a scan and finds it again by a filtered list', async () => {
    const { gate } = fakeGate();
    await withSimulator({ machines: [{ id: DEVICE }] }, async ({ url, sim }) => {
      const api = client(url, sim, { gate });
      const action = await api.runAntiVirusScan(DEVICE.toUpperCase(), {
        comment: "it's [fleetscan:c-000000000001]",
        scanType: 'Quick',
      });
      const found = [];
      for await (const a of api.listMachineActions({
        machineId: DEVICE,
        type: 'RunAntiVirusScan',
        createdSince: new Date(Date.now() - 60_000),
      }))
        found.push(a);
      const busy = await failure(
        api.runAntiVirusScan(DEVICE, { comment: 'again', scanType: 'Quick' }),
      );
      api.close();
      expect(action).toMatchObject({
        machineId: DEVICE,
        type: 'RunAntiVirusScan',
        status: 'Pending',
      });
      expect(found.map((a) => a.id)).toContain(action.id);
      expect(busy).toMatchObject({
        status: 400,
        code: 'ActiveRequestAlreadyExists',
        retry: 'later',
      });
    });
  });

  it('holds the family for the simulator Retry-After when a window is full', async () => {
    const { gate, events } = fakeGate();
    await withSimulator(
      { fleet: 5, rateLimits: [{ cap: 2, windowMs: 60_000 }] },
      async ({ url, sim }) => {
        const api = client(url, sim, { gate });
        const list = async () => {
          for await (const machine of api.listMachines()) return machine;
          return undefined;
        };
        await list();
        await list();
        const error = await failure(list());
        api.close();
        // The real body's code is "429": throttled is decided on the status, not the code.
        expect(error).toMatchObject({ status: 429, code: '429', retry: 'throttled' });
        expect(error.retryAfterMs).toBeGreaterThan(0);
        expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
        expect(events.filter((event) => event.type === 'throttle')).toEqual([
          { type: 'throttle', family: 'machines', ms: error.retryAfterMs },
        ]);
        expect(sim.stats().throttled).toBe(1);
      },
    );
  });

  it.each(['destroy', '502'] as const)(
    'says backoff when the reply is lost (%s), though the action exists',
    async (lostMode) => {
      const { gate, events } = fakeGate();
      await withSimulator(
        { machines: [{ id: DEVICE }], lostRate: 1, lostMode },
        async ({ url, sim }) => {
          const api = client(url, sim, { gate });
          const error = await failure(
            api.runAntiVirusScan(DEVICE, { comment: 'c', scanType: 'Quick' }),
          );
          api.close();
          expect(error.retry).toBe('backoff');
          expect(error.status).toBe(lostMode === '502' ? 502 : 0);
          expect(error.notSent).toBe(false);
          expect(sim.actions()).toHaveLength(1);
        },
      );
      expect(events.map((event) => event.type)).toEqual(['acquire', 'settle']);
    },
  );

  it('answers 401 for a token the simulator never issued, after no refresh is possible', async () => {
    const { gate } = fakeGate();
    await withSimulator({ fleet: 1 }, async ({ url, sim }) => {
      const api = client(url, sim, { gate, tokens: staticTokenProvider('a.b.c') });
      await expect(
        failure(api.getMachineAction('00000000-0000-4000-8000-000000000000')),
      ).resolves.toMatchObject({
        status: 401,
        code: 'Unauthorized',
        retry: 'never',
      });
      api.close();
      expect(sim.stats().unauthorized).toBe(1);
    });
  });
});
