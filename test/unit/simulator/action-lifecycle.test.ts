import { describe, expect, it } from 'vitest';
import { buildSimulator, type Simulator } from '../../../src/simulator/build-simulator.js';
import { auth, errorCode, fakeClock, get, healthyIds, scan } from './sim-kit.js';

const NO_SPECIALS = {
  busy: 0,
  offline: 0,
  inactive: 0,
  duplicate: 0,
  unsupportedOs: 0,
  excluded: 0,
};

async function statusOf(sim: Simulator, actionId: string): Promise<string> {
  return (await get(sim, `/api/machineactions/${actionId}`)).json<{ status: string }>().status;
}

async function cancel(sim: Simulator, actionId: string, body: unknown = { Comment: 'stop' }) {
  return sim.app.inject({
    method: 'POST',
    url: `/api/machineactions/${actionId}/cancel`,
    headers: { ...auth(sim), 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

describe('action lifecycle', () => {
  it('moves Pending → InProgress → Succeeded over scaled time', async () => {
    const clock = fakeClock();
    // timeScale 10: 5 s pending and 20 s in progress become 500 ms and 2 s.
    const sim = await buildSimulator({
      fleet: 10,
      fleetMix: NO_SPECIALS,
      now: clock.now,
      timeScale: 10,
    });
    try {
      const action = (await scan(sim, healthyIds(sim)[0]!)).json<{
        id: string;
        creationDateTimeUtc: string;
      }>();
      expect(await statusOf(sim, action.id)).toBe('Pending');
      clock.advance(500);
      expect(await statusOf(sim, action.id)).toBe('InProgress');
      clock.advance(2_000);
      const done = (await get(sim, `/api/machineactions/${action.id}`)).json<
        Record<string, string>
      >();
      expect(done['status']).toBe('Succeeded');
      expect(
        Date.parse(done['lastUpdateDateTimeUtc']!) - Date.parse(action.creationDateTimeUtc),
      ).toBe(2_500);
      // The device is free again.
      expect((await scan(sim, healthyIds(sim)[0]!)).statusCode).toBe(201);
    } finally {
      await sim.close();
    }
  });

  it('keeps an offline device Pending until it times out', async () => {
    const clock = fakeClock();
    const id = 'b'.repeat(40);
    const sim = await buildSimulator({
      machines: [{ id, simulation: { offline: true, offlineOutcome: 'TimeOut' } }],
      now: clock.now,
      lifecycle: { offlineTimeoutMs: 60_000 },
    });
    try {
      const action = (await scan(sim, id)).json<{ id: string }>();
      clock.advance(59_999);
      expect(await statusOf(sim, action.id)).toBe('Pending');
      expect(errorCode(await scan(sim, id))).toBe('ActiveRequestAlreadyExists');
      clock.advance(1);
      expect(await statusOf(sim, action.id)).toBe('TimeOut');
    } finally {
      await sim.close();
    }
  });

  it('answers 404 for an unknown action and 400 InvalidInput for a malformed action id', async () => {
    const sim = await buildSimulator({ fleet: 1 });
    try {
      const unknown = await get(sim, '/api/machineactions/00000000-0000-4000-8000-000000000000');
      expect(unknown.statusCode).toBe(404);
      expect(errorCode(unknown)).toBe('ResourceNotFound');
      expect(errorCode(await get(sim, '/api/machineactions/not-a-guid'))).toBe('InvalidInput');
    } finally {
      await sim.close();
    }
  });
});

describe('cancel', () => {
  it('cancels an unfinished action, recording who and why, and frees the device', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({ fleet: 10, fleetMix: NO_SPECIALS, now: clock.now });
    try {
      const id = healthyIds(sim)[0]!;
      const action = (await scan(sim, id)).json<{ id: string }>();
      const r = await cancel(sim, action.id, { Comment: 'kill switch' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({
        id: action.id,
        status: 'Cancelled',
        cancellationRequestor: sim.credentials.clientId,
        cancellationComment: 'kill switch',
      });
      clock.advance(3_600_000);
      expect(await statusOf(sim, action.id)).toBe('Cancelled');
      expect((await scan(sim, id)).statusCode).toBe(201);
    } finally {
      await sim.close();
    }
  });

  it('refuses to cancel a finished action', async () => {
    const clock = fakeClock();
    const sim = await buildSimulator({ fleet: 10, fleetMix: NO_SPECIALS, now: clock.now });
    try {
      const action = (await scan(sim, healthyIds(sim)[0]!)).json<{ id: string }>();
      clock.advance(60_000);
      const r = await cancel(sim, action.id);
      expect(r.statusCode).toBe(400);
      expect(await statusOf(sim, action.id)).toBe('Succeeded');
    } finally {
      await sim.close();
    }
  });

  it('requires a Comment and answers 404 for an unknown action', async () => {
    const sim = await buildSimulator({ fleet: 10, fleetMix: NO_SPECIALS });
    try {
      const action = (await scan(sim, healthyIds(sim)[0]!)).json<{ id: string }>();
      expect(errorCode(await cancel(sim, action.id, {}))).toBe('InvalidRequestBody');
      expect(errorCode(await cancel(sim, action.id, { comment: 'x' }))).toBe('InvalidRequestBody');
      expect((await cancel(sim, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
      expect(sim.stats().byFamily.cancel).toBe(3);
    } finally {
      await sim.close();
    }
  });
});
