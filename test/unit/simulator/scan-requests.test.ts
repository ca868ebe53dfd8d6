import { describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import { errorCode, healthyIds, scan } from './sim-kit.js';

const NO_SPECIALS = {
  busy: 0,
  offline: 0,
  inactive: 0,
  duplicate: 0,
  unsupportedOs: 0,
  excluded: 0,
};

async function withSim(
  run: (sim: Simulator) => Promise<void>,
  options: Parameters<typeof buildSimulator>[0] = {},
): Promise<void> {
  const sim = await buildSimulator({ fleet: 20, fleetMix: NO_SPECIALS, ...options });
  try {
    await run(sim);
  } finally {
    await sim.close();
  }
}

describe('runAntiVirusScan', () => {
  it('creates a Pending action with every documented field, the comment and the app as requestor', async () => {
    await withSim(async (sim) => {
      const id = healthyIds(sim)[0]!;
      const r = await scan(sim, id, { Comment: 'weekly [fleetscan:c-abc]', ScanType: 'Full' });
      expect(r.statusCode).toBe(201);
      const action = r.json<Record<string, unknown>>();
      expect(action).toMatchObject({
        type: 'RunAntiVirusScan',
        scope: 'Full',
        status: 'Pending',
        machineId: id,
        requestor: sim.credentials.clientId,
        requestorComment: 'weekly [fleetscan:c-abc]',
        cancellationRequestor: null,
      });
      for (const field of [
        'id',
        'requestSource',
        'externalId',
        'computerDnsName',
        'creationDateTimeUtc',
        'lastUpdateDateTimeUtc',
        'cancellationComment',
        'cancellationDateTimeUtc',
        'errorHResult',
        'troubleshootInfo',
        'title',
        'relatedFileInfo',
        'commands',
      ]) {
        expect(action).toHaveProperty(field);
      }
      expect(String(action['id'])).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(sim.stats().actionsCreated).toBe(1);
    });
  });

  it.each([
    ['an unknown property', { Comment: 'x', ScanType: 'Quick', Extra: 1 }],
    ['a lowercase property name', { comment: 'x', ScanType: 'Quick' }],
    ['no Comment', { ScanType: 'Quick' }],
    ['an empty Comment', { Comment: '  ', ScanType: 'Quick' }],
    ['a Comment that is not a string', { Comment: 5, ScanType: 'Quick' }],
    ['no ScanType', { Comment: 'x' }],
    ['a lowercase ScanType', { Comment: 'x', ScanType: 'quick' }],
    ['an array', [{ Comment: 'x', ScanType: 'Quick' }]],
    ['broken JSON', '{"Comment": "x",'],
  ])('refuses a body with %s as 400 InvalidRequestBody, creating nothing', async (_label, body) => {
    await withSim(async (sim) => {
      const r = await scan(sim, healthyIds(sim)[0]!, body);
      expect(r.statusCode).toBe(400);
      expect(errorCode(r)).toBe('InvalidRequestBody');
      expect(sim.actions()).toHaveLength(0);
    });
  });

  it('refuses a body without Content-Type: application/json', async () => {
    await withSim(async (sim) => {
      const body = JSON.stringify({ Comment: 'x', ScanType: 'Quick' });
      const r = await scan(sim, healthyIds(sim)[0]!, body, { 'content-type': 'text/plain' });
      expect(errorCode(r)).toBe('InvalidRequestBody');
    });
  });

  it.each([
    'ABCDEF0123456789ABCDEF0123456789ABCDEF01',
    'abc',
    '%0d%0a',
    'a'.repeat(41),
    `${'a'.repeat(39)}g`,
  ])('refuses the malformed machine id %s with 400 InvalidInput', async (id) => {
    await withSim(async (sim) => {
      const r = await scan(sim, id);
      expect(r.statusCode).toBe(400);
      expect(errorCode(r)).toBe('InvalidInput');
    });
  });

  it.each(['..', '%2e%2e', '..%2f..'])(
    'never scans anything for the path-traversal id %s',
    async (id) => {
      await withSim(async (sim) => {
        const r = await scan(sim, id);
        expect([400, 404]).toContain(r.statusCode);
        expect(sim.actions()).toHaveLength(0);
      });
    },
  );

  it('answers 404 ResourceNotFound for a device the tenant does not have', async () => {
    await withSim(async (sim) => {
      const r = await scan(sim, 'f'.repeat(40));
      expect(r.statusCode).toBe(404);
      expect(errorCode(r)).toBe('ResourceNotFound');
    });
  });

  it('answers 400 OsPlatformNotSupported for an iOS device', async () => {
    await withSim(
      async (sim) => {
        const r = await scan(sim, 'a'.repeat(40));
        expect(r.statusCode).toBe(400);
        expect(errorCode(r)).toBe('OsPlatformNotSupported');
      },
      { machines: [{ id: 'a'.repeat(40), osPlatform: 'iOS' }] },
    );
  });

  it('answers 400 ActiveRequestAlreadyExists to a second scan of a busy device', async () => {
    await withSim(async (sim) => {
      const id = healthyIds(sim)[0]!;
      expect((await scan(sim, id)).statusCode).toBe(201);
      const r = await scan(sim, id);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({
        error: { code: 'ActiveRequestAlreadyExists', message: 'Action is already in progress' },
      });
      expect(sim.actions()).toHaveLength(1);
    });
  });

  it('answers 201 with the same pending action when existingActionRate says so', async () => {
    await withSim(
      async (sim) => {
        const id = healthyIds(sim)[0]!;
        const first = (await scan(sim, id, { Comment: 'first', ScanType: 'Quick' })).json<{
          id: string;
        }>();
        const again = await scan(sim, id, { Comment: 'second', ScanType: 'Quick' });
        expect(again.statusCode).toBe(201);
        expect(again.json()).toMatchObject({ id: first.id, requestorComment: 'first' });
        expect(sim.actions()).toHaveLength(1);
        expect(sim.stats()).toMatchObject({ actionsCreated: 1, existingActionReplies: 1 });
        expect(sim.calls().at(-1)).toMatchObject({ existingActionId: first.id, actionId: null });
      },
      { existingActionRate: 1 },
    );
  });

  it('treats a device already scanning for someone else as busy', async () => {
    const sim = await buildSimulator({ fleet: 200, seed: 7 });
    try {
      const busy = sim.machines.find((m) => m.simulation.busyWithOtherScan)!;
      const r = await scan(sim, busy.id);
      expect(errorCode(r)).toBe('ActiveRequestAlreadyExists');
      const theirs = sim.actions().find((a) => a.machineId === busy.id)!;
      expect(theirs.requestor).not.toBe(sim.credentials.clientId);
    } finally {
      await sim.close();
    }
  });
});
